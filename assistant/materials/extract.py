"""Offline extraction: every figure a material states becomes a candidate row, in code.

Numbers are read by the checker (check.numbers.extract: the same masks for years, dates,
document numbers, ordinals and fixed numerals, the same units and 万/亿 scales), sentences and
clauses by gongwen. For each number in a clause:

- **item**: the words naming what it counts. Before the number ("新闻发布会召开12次",
  "地区生产总值1234亿元") unless the number is followed by the noun it counts ("开展12次专项
  检查": the verb before it, when it is more than a generic one, is kept: "新建3所学校" →
  新建学校). Generic leads (全年、累计、共、其中、全市 …), linking verbs before the number
  (达、为、达到、完成 …) and comparisons (比上年、同比) are stripped. A change or share with no
  subject of its own ("增长7.3%", "占全市的35%") takes the subject of the number before it in
  the sentence (地区生产总值增长). "A、B分别为x、y" pairs in order.
- **last_year**: a number written as last year's ("上年为8次", "2024年为…" in a 2025 report,
  "由上年的8次增加到12次", "从8次增至12次") is the last_year of the row it belongs to (same
  unit class), not a row; a year before last is left out.
- left out: ranges (3—5天), word forms (两成、翻一番), fixed approximations (数十次) and numbers
  without a unit; they are not figures a table can hold.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from assistant.check.numbers import extract
from assistant.check.reading import NumberReading, unit_class
from assistant.core.figures import SCALES, format_value
from assistant.gongwen import clauses, sentences
from assistant.materials.read import Block

__all__ = ["Candidate", "extract_blocks", "report_year", "derive_item", "EXTRA_UNITS"]

# Units a material writes that the number check does not need (it grounds bare numbers by value):
# read here so "装机12.5万千瓦", "查处案件12起" keep their unit.
EXTRA_UNITS = sorted(
    [
        "千瓦时",
        "千瓦",
        "兆瓦",
        "立方米",
        "平方公里",
        "平方千米",
        "公斤",
        "千克",
        "标准煤",
        "吨标准煤",
        "米",
        "床",
        "艘",
        "架",
        "宗",
        "起",
        "笔",
        "单",
        "元/人",
        "岁",
        "分",
        "人/次",
        "株",
        "只",
        "盏",
        "根",
        "片",
        "所",
        "对",
        "段",
        "节",
        "档",
        "口",
        "眼",
        "吨",
        "担",
        "斤",
        "棵",
        "羽",
        "尾",
    ],
    key=len,
    reverse=True,
)
_EXTRA_UNIT = re.compile("(?:" + "|".join(re.escape(u) for u in EXTRA_UNITS) + ")")
_SCALE_NAME = {factor: prefix for prefix, factor in SCALES}

# Leads that name nothing: stripped from the front of an item. One-character words only where
# they cannot begin an item's own word (在职、对外、向阳 are items; 并案 is one).
_LEAD = re.compile(
    r"^(?:其中|全年|今年|本年|年内|年度|全年度|累计|共计|总计|合计|共|全市|全县|全区|全省|全镇|全州|全盟|全旗|"
    r"我局|我委|我办|我院|我厅|我部|本局|本单位|各级|先后|已经|截至目前|截至年底|截至年末|截至|目前|年底|年末|此外|另外|"
    r"同时|并且|一年来|去年以来|今年以来|以来|通过|围绕|全面|持续|进一步|大力|积极|预计|"
    r"召开|开展|举办|组织|完成|实现|进行|推进|达成|取得|开通|投入|安排|落实|共有|拥有|为(?=\d)|为|已|还|又|均|分别)+"
)
# Words right before the number that only link it to its item; 达/为/计/至 not when they end a
# word of their own (下达、作为、审计、截至).
_LINK = re.compile(
    r"(?:达到|(?<![下到传送表抵发])达|(?<![作成认行])为|是|有|共|共计|累计|总计|合计|(?<![统会设审估])计|超过|超|突破|逾|约|近|将近|"
    r"不少于|不到|不足|分别为|分别|(?<!截)至|到|了|共有|实现|完成|全年|年均|平均|保持在|保持|稳定在|控制在|维持在|在|"
    r"召开|开展|举办|组织|进行)+$"
)
_PERIOD = r"(?:上年|去年|上一年|上年度|上月|上季度|上半年|年初|同期|\d{4}年)"
_COMPARE = re.compile(rf"(?:比|较|与|同|和){_PERIOD}(?:同期|底|末)?(?:相比|相较)?|同比|环比|(?:比|较)同期")
# A change or share: the item is the subject's (地区生产总值增长).
_CHANGE = re.compile(
    r"^(?:同比)?(?:增长|增加(?!值)|提高|提升|上升|下降|降低|减少|回落|增幅|降幅|增速|增|降|占比|占|比重|扩大|缩小|"
    r"净增|净减|多|少|低于|高于|超出|完成)"
)
# A measure of the thing the previous number counted ("种植辣椒3万亩、产量2.7万吨"): the item is
# that thing's.
_ATTRIBUTE = re.compile(
    r"^(?:产量|产值|面积|金额|人数|户数|人次|批次|件数|次数|规模|总量|总额|比例|余额|数量|增速|增幅|年计划|任务)$"
)
_AFTER_NOUN_STOP = re.compile(
    r"(?:全部|均|已|全面|实现(?!就业)|达到|得到|获得|通过|参与|参加|覆盖|涉及|同比|比上年|较上年|其中|并|的|共|累计|分别|受益|惠及|"
    r"增长|下降|提高|减少|增加|保持|用于)"
)
_LAST_YEAR_BEFORE = re.compile(
    r"(?:上年|去年|上一年|上年度|上年同期|去年同期|同期)(?:全年)?(?:的|为|是|有|达|达到|完成|共|共计|累计|实现)?\s*$"
)
_YEAR_BEFORE = re.compile(r"(\d{4})\s*年(?:度|全年|底|末|同期)?(?:的|为|是|有|达|达到|完成|共|共计|累计|实现)?\s*$")
_FROM_TO = re.compile(
    r"\s*[^\d，；。]{0,6}?(?:增|提|升|降|减|扩|缩|上升|下降|增长|增加|减少|提高|降低|跃升|发展)\S{0,2}?(?:到|至)"
)
_FROM = re.compile(r"(?:由|从)(?:上年的|去年的|上年|去年)?\s*$")
_LEAD_WORD = re.compile(r"(?:下达|到达|传达|送达|表达|抵达|发达|公共)$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_THRESHOLD = re.compile(r"^(?:超过|超|逾|突破)|以上$|以下$")
_RANGE = re.compile(r"\d\s*[~至到\-—–]\s*\d")
_WORD_FORM = re.compile(r"成$|分之|翻|几|数[十百千万]|上[百千万]|成百上千|[一二两三四五六七八九]十几")
_NOT_ITEM = re.compile(r"[“”‘’\"《》「」〈〉()（）\[\]【】\s]")
_DATES = re.compile(r"\d{1,2}\s*[-—–~至到]\s*\d{1,2}\s*月(?:份)?|\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?(?:底|末|份)?")
_SEPARATORS = "、和及与或以及，；：:,"


@dataclass
class Candidate:
    """One figure a material states. value/unit as written (1234, 亿元); `base` folds the scale
    in, for comparing rows; `ocr`: read by OCR, to be confirmed by a person."""

    item: str
    value: float
    unit: str
    sentence: str
    source: str
    last_year: float | None = None
    ocr: bool = False
    base: float = 0.0
    unit_class: str = ""
    extra_sources: list[str] = field(default_factory=list)

    @property
    def value_text(self) -> str:
        return format_value(self.value)


def report_year(blocks: list[Block]) -> int | None:
    """The year a material reports on: the year it names most (ties: the later one)."""
    years = Counter(
        int(y) for b in blocks for y in re.findall(r"(?<!\d)(20\d\d)\s*年(?!\d)", b.text) if 2000 <= int(y) <= 2099
    )
    if not years:
        return None
    return max(years.items(), key=lambda kv: (kv[1], kv[0]))[0]


def _written(e: NumberReading, norm: str) -> tuple[float, str] | None:
    """(value as written, unit with its scale) of a mention that a figures table can hold."""
    text = norm[e.start : e.end]
    if _RANGE.search(text) or _WORD_FORM.search(text) or getattr(e, "ratio", False):
        return None
    unit = e.unit
    end = e.end
    if not unit:
        m = _EXTRA_UNIT.match(norm, end)
        if m is None:
            return None
        unit = m.group(0)
    if e.value is None:
        return None
    scale = e.scale or 1.0
    value = round(e.value / scale, 6)
    prefix = _SCALE_NAME.get(scale, "") if scale != 1.0 else ""
    if scale == 1.0 and re.search(r"[万亿]$", text.rstrip("余多左右以上")) and not text[-1].isdigit():
        prefix = ""
    return value, prefix + unit


_YEAR_WORDS = re.compile(r"\d{4}\s*年(?:度|底|末|全年)?")


def _cleanup(phrase: str) -> str:
    phrase = _YEAR_WORDS.sub("", _NOT_ITEM.sub("", phrase))
    phrase = _DATES.sub("", phrase)
    phrase = re.split(r"[:：]", phrase)[-1]  # "监督工作方面：听取…": a lead-in before a colon names no item
    phrase = _COMPARE.sub("", phrase)
    phrase = phrase.strip(_SEPARATORS + "的")
    previous = None
    while previous != phrase:
        previous = phrase
        phrase = _LEAD.sub("", phrase)
        phrase = _LINK.sub("", phrase)
        phrase = phrase.strip(_SEPARATORS + "的")
    return phrase


def _noun_after(norm: str, start: int, end: int) -> str:
    """The noun a counted number is followed by ("12次专项检查"), up to a stop word."""
    tail = norm[start:end]
    tail = tail.lstrip("余多左右以上的")
    m = re.match(r"[\u4e00-\u9fffA-Za-z]+", tail)
    if not m:
        return ""
    words = m.group(0)
    stop = _AFTER_NOUN_STOP.search(words, 1)
    if stop:
        words = words[: stop.start()]
    return words[:16] if len(words) >= 2 else ""


def derive_item(left: str, after: str, subject: str | None) -> str:
    """The item of a number from the words before it in its clause (`left`, from the clause's
    start or the end of the previous number and its noun), the noun right after it (`after`:
    "开展5项执法检查") and the subject of the sentence's previous number (for a change, a share
    or a measure with no subject of its own: 增长7.3%, 占9.4%, 产量2.7万吨)."""
    core = _cleanup(left)
    if after:
        if not core or _CHANGE.match(core):
            return after
        return core + after
    if subject and (not core or _CHANGE.match(core) or _ATTRIBUTE.match(core)):
        return subject + core
    return core


_CHANGE_TAIL = re.compile(
    r"(?:同比)?(?:增长(?!点)|增加(?!值)|提高|提升|上升|下降|降低|减少|回落|占比|占|比重|增幅|降幅|低于|高于)[^增减提降占]{0,8}$"
)


def _subject_of(item: str) -> str:
    """An item without its change or share: the subject a following 增长x% borrows."""
    m = _CHANGE_TAIL.search(item)
    return item[: m.start()] if m and m.start() >= 2 else item


@dataclass
class _Mention:
    e: NumberReading
    value: float
    unit: str
    clause: tuple[int, int]
    sentence: tuple[int, int]
    last_year_of: str | None = None  # "prev" / "next": a last-year value, attached to a neighbour
    skip: bool = False


def extract_blocks(blocks: list[Block], source: str, *, year: int | None = None) -> list[Candidate]:
    """Candidate rows of one material's blocks, in text order."""
    year = year or report_year(blocks)
    rows: list[Candidate] = []
    for block in blocks:
        if block.header:
            rows.extend(_table_rows(block, source, year))
        else:
            rows.extend(_text_rows(block.text, f"{source} {block.where}", year, ocr=block.ocr))
    return rows


def _text_rows(text: str, where: str, year: int | None, *, ocr: bool) -> list[Candidate]:
    found, _, norm = extract(text)
    if not found:
        return []
    sents = sentences(norm)
    out: list[Candidate] = []
    for ss, se in sents:
        in_sentence = [e for e in found if ss <= e.start < se]
        if in_sentence:
            out.extend(_sentence_rows(text, norm, (ss, se), in_sentence, where, year, ocr))
    return out


def _sentence_rows(
    text: str,
    norm: str,
    span: tuple[int, int],
    found: list[NumberReading],
    where: str,
    year: int | None,
    ocr: bool,
) -> list[Candidate]:
    ss, se = span
    cls = clauses(norm, ss, se)
    mentions: list[_Mention] = []
    for e in found:
        w = _written(e, norm)
        if w is None:
            continue
        clause = next(((a, b) for a, b in cls if a <= e.start < b), (ss, se))
        m = _Mention(e, w[0], w[1], clause, span)
        before = norm[clause[0] : e.start]
        yb = _YEAR_BEFORE.search(before)
        if _LAST_YEAR_BEFORE.search(before) or (yb and year and int(yb.group(1)) == year - 1):
            m.last_year_of = "prev"
        elif yb and year and int(yb.group(1)) < year - 1:
            m.skip = True  # a year before last: neither the report year nor its comparison
        if _FROM.search(before) and _FROM_TO.match(norm, e.end):
            m.last_year_of = "next"
        if _THRESHOLD.search(norm[e.start : e.end]) and norm.startswith("的", _unit_end(norm, e, m.unit)):
            m.skip = True  # "纳税超百万元的企业": a threshold inside an item's name, not a figure
        if m.unit == "期" and not re.search(r"\d", norm[e.start : e.end]) and _CJK.match(norm, e.end):
            m.skip = True  # 公园二期、一期工程: a project's phase, not a count
        mentions.append(m)
    sentence_text = text[ss:se].strip()
    rows: list[Candidate] = []
    row_of: dict[int, Candidate] = {}
    subject: str | None = None
    respectively = _respectively(norm, mentions)
    ends: dict[int, int] = {}  # where each number and the noun it counts end
    for k, m in enumerate(mentions):
        if m.skip or m.last_year_of:
            continue
        e = m.e
        prev_end = max(
            [ends.get(j, x.e.end) for j, x in enumerate(mentions[:k]) if x.clause == m.clause] + [m.clause[0]]
        )
        nxt_start = min([x.e.start for x in mentions[k + 1 :] if x.clause == m.clause] + [m.clause[1]])
        ends[k] = _unit_end(norm, e, m.unit)
        if k in respectively:
            item = respectively[k]
        elif k in (pairs := _respectively_after(norm, mentions, row_of)):
            item = pairs[k]
        else:
            left = norm[prev_end : e.start]
            lead = re.match(r"\D+", norm[e.start : e.end])
            if lead and _LEAD_WORD.search(left + lead.group(0)):
                left += lead.group(0)  # 中央下达511万元: 达 ends 下达, it is not the number's 达
            if k and mentions[k - 1].last_year_of == "next" and mentions[k - 1].clause == m.clause:
                # 粮食产量由上年的52万吨增加到55.3万吨: the item is named before 由
                head = norm[m.clause[0] : mentions[k - 1].e.start]
                cut = max(head.rfind("由"), head.rfind("从"))
                left = head[:cut] if cut > 0 else left
            after = _noun_after(norm, ends[k], nxt_start)
            if after:
                ends[k] = norm.find(after, ends[k]) + len(after)
            item = derive_item(left, after, subject)
        item = item[:30] or subject or _cleanup(norm[m.clause[0] : m.clause[1]].replace(norm[e.start : e.end], ""))[:20]
        if not item:
            continue
        row = Candidate(
            item=item,
            value=m.value,
            unit=m.unit,
            sentence=sentence_text,
            source=where,
            ocr=ocr,
            base=e.value,  # the scale folded in, as figures fold it
            unit_class=unit_class(m.unit.lstrip("万亿") or m.unit),
        )
        rows.append(row)
        row_of[k] = row
        subject = _subject_of(item)
    for k, m in enumerate(mentions):
        if not m.last_year_of or m.skip:
            continue
        earlier, later = list(range(k - 1, -1, -1)), list(range(k + 1, len(mentions)))
        # 上年为8次 belongs to the row before it; "2024年为35人，2025年为40人" to the one after
        order = earlier + later if m.last_year_of == "prev" else later
        cls_unit = unit_class(m.unit.lstrip("万亿") or m.unit)
        for j in order:
            target = row_of.get(j)
            if target is not None and target.unit_class == cls_unit and target.last_year is None:
                target.last_year = _in_unit(m, target)
                break
    return rows


def _unit_end(norm: str, e: NumberReading, unit: str) -> int:
    """Where a mention and a unit read after it (EXTRA_UNITS) end."""
    if e.unit:
        return e.end
    m = _EXTRA_UNIT.match(norm, e.end)
    return m.end() if m else e.end


def _in_unit(m: _Mention, target: Candidate) -> float:
    """A last-year value in the unit its row is written in (上年为8600万元 for a row in 亿元)."""
    mine = dict((p, f) for p, f in SCALES).get(m.unit[:2] if m.unit.startswith("万亿") else m.unit[:1], 1.0)
    theirs = dict((p, f) for p, f in SCALES).get(
        target.unit[:2] if target.unit.startswith("万亿") else target.unit[:1], 1.0
    )
    if m.unit.lstrip("万亿") == m.unit:
        mine = 1.0
    if target.unit.lstrip("万亿") == target.unit:
        theirs = 1.0
    return round(m.value * mine / theirs, 6)


def _respectively(norm: str, mentions: list[_Mention]) -> dict[int, str]:
    """ "A、B分别为x、y": index of each number -> its item, when the names and numbers pair up."""
    out: dict[int, str] = {}
    by_clause: dict[tuple[int, int], list[int]] = {}
    for k, m in enumerate(mentions):
        if not m.skip and not m.last_year_of:
            by_clause.setdefault(m.clause, []).append(k)
    for (cs, _), ks in by_clause.items():
        if len(ks) < 2:
            continue
        where = norm.find("分别", cs, mentions[ks[0]].e.start)
        if where < 0:
            continue
        verb = _cleanup(norm[where + 2 : mentions[ks[0]].e.start])
        head_text = _COMPARE.sub("", _NOT_ITEM.sub("", norm[cs:where]))  # before splitting: 与上月相比
        names = [_cleanup(n) for n in re.split(r"[、和及与]|以及", head_text)]
        names = [n for n in names if n]
        if len(names) != len(ks):
            continue
        last = names[-1]
        # 城镇和农村居民人均可支配收入: a short head shares the words after the last head
        names = [n + last[len(n) :] if len(n) <= 3 < len(last) - len(n) else n for n in names[:-1]] + [last]
        change = verb if verb and _CHANGE.match(verb) else ""
        head = ""
        if all(len(n) <= 2 for n in names):  # "批次、人次分别上升…": measures of the sentence's subject
            before = [x for x in mentions[: ks[0]] if not x.skip and not x.last_year_of]
            if before:
                first = next(x for x in before if x.clause == before[-1].clause)  # the clause's subject
                head = _cleanup(norm[first.clause[0] : first.e.start])
        for k, name in zip(ks, names):
            out[k] = head + name + change
    return out


def _respectively_after(norm: str, mentions: list[_Mention], row_of: dict[int, Candidate]) -> dict[int, str]:
    """ "受理案件22895件、办结19942件，同比分别增长18.28%、9.9%": a 分别 clause that names nothing
    pairs its numbers, in order, with the rows just before it in the sentence."""
    out: dict[int, str] = {}
    by_clause: dict[tuple[int, int], list[int]] = {}
    for k, m in enumerate(mentions):
        if not m.skip and not m.last_year_of:
            by_clause.setdefault(m.clause, []).append(k)
    for (cs, _), ks in by_clause.items():
        where = norm.find("分别", cs, mentions[ks[0]].e.start)
        if where < 0 or _cleanup(norm[cs:where]):
            continue
        earlier = [j for j in sorted(row_of) if j < ks[0]]
        if len(earlier) < len(ks):
            continue
        change = _cleanup(norm[where + 2 : mentions[ks[0]].e.start])
        for k, j in zip(ks, earlier[-len(ks) :]):
            out[k] = _subject_of(row_of[j].item) + change
    return out


# ---------------------------------------------------------------- tables

_YEAR_HEADER = re.compile(r"(20\d\d)\s*年")
_UNIT_IN_HEADER = re.compile(r"[（(]\s*([^）)]{1,6})\s*[）)]")
_NUMBER_CELL = re.compile(r"^\s*[-−]?\d[\d,]*(?:\.\d+)?\s*%?\s*$")
_VALUE_HEADERS = ("数值", "数量", "完成值", "完成", "实际", "本年", "今年", "金额", "合计", "总数", "数据")
_LAST_HEADERS = ("上年", "去年", "上年同期", "去年同期")
_UNIT_HEADERS = ("单位", "计量单位")
_LABEL_SKIP = ("序号", "编号", "排名")


def _cell_number(cell: str) -> float | None:
    if not _NUMBER_CELL.match(cell):
        return None
    return float(cell.replace(",", "").replace("%", "").replace("−", "-").strip())


def _table_rows(block: Block, source: str, year: int | None) -> list[Candidate]:
    header, cells = block.header, block.cells
    where = f"{source} {block.where}"
    unit_col = next((i for i, h in enumerate(header) if h in _UNIT_HEADERS), None)
    label = next(
        (
            c
            for i, c in enumerate(cells)
            if c
            and i != unit_col
            and _cell_number(c) is None
            and not (i < len(header) and any(s in header[i] for s in _LABEL_SKIP))
        ),
        None,
    )
    if label is None:
        return []
    value_cols: list[int] = []
    last_col: int | None = None
    for i, h in enumerate(header):
        if i >= len(cells) or i == unit_col:
            continue
        y = _YEAR_HEADER.search(h)
        if any(h.startswith(p) for p in _LAST_HEADERS) or (y and year and int(y.group(1)) == year - 1):
            last_col = i
        elif y and year and int(y.group(1)) < year - 1:
            continue
        elif _cell_number(cells[i]) is not None or _read_cell(cells[i]) is not None:
            value_cols.append(i)
    rows = []
    for i in value_cols:
        read = _read_cell(cells[i])
        if read is None:
            continue
        value, unit = read
        h = header[i] if i < len(header) else ""
        if not unit:
            hu = _UNIT_IN_HEADER.search(h)
            unit = hu.group(1) if hu else (cells[unit_col] if unit_col is not None and unit_col < len(cells) else "")
        if not unit:
            continue
        generic = not h or _YEAR_HEADER.search(h) or any(h.startswith(v) for v in _VALUE_HEADERS)
        item = _cleanup(label) if generic or len(value_cols) == 1 else _cleanup(label) + _UNIT_IN_HEADER.sub("", h)
        last = None
        if last_col is not None and len(value_cols) == 1:
            lr = _read_cell(cells[last_col])
            last = lr[0] if lr else None
        base_unit = unit
        base = value
        for prefix, factor in SCALES:
            if unit.startswith(prefix) and len(unit) > len(prefix):
                base, base_unit = value * factor, unit[len(prefix) :]
                break
        rows.append(
            Candidate(
                item=item or label,
                value=value,
                unit=unit,
                sentence=block.text,
                source=where,
                last_year=last,
                ocr=block.ocr,
                base=round(base, 6),
                unit_class=unit_class(base_unit),
            )
        )
    return rows


def _read_cell(cell: str) -> tuple[float, str] | None:
    """A table cell's number and the unit written with it ("12", "12次", "98.6%", "1.2万人")."""
    n = _cell_number(cell)
    if n is not None:
        return n, "%" if "%" in cell else ""
    found, _, norm = extract(cell)
    if len(found) != 1 or norm[: found[0].start].strip() or norm[found[0].end :].strip():
        return None
    w = _written(found[0], norm)
    return w
