"""The automatic part of the draft rubric (evals/rubric.md): a draft judged against the reference.

    .venv/bin/python -m evals.rubric DRAFT.md --spec SPEC.yaml --figures FIGURES.csv [DRAFT2.md …]
    .venv/bin/python -m evals.rubric --offline-drafts      # rebuilds evals/offline-drafts/comparison.md

Four dimensions, each 0–5, as an office writer reading the draft beside the reference report
(/work/shared/reference/, whose structure and register the genre follows):

- structure: 导语 ending 汇报如下, parts in order, subsections developed by items, problems with
  measures, a closing sentence;
- register: spoken wording and notes to self left in the text (word lists of this file, written
  apart from the engine's phrase tables so the engine is not judged by its own lists), plus the
  checker's style errors;
- substance: items with a summarising lead (as the reference's share), items with a verb before
  their first number, enough problem/measure/plan items for what the notes give, no set phrase
  twice in one paragraph;
- figures: no invented or misattributed number, every supplied figure used.

The reference's own scores are printed with the drafts, for scale.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from assistant.check import check_text
from assistant.core.figures import Figure, load_figures
from assistant.drafting.offline import split_clauses
from assistant.drafting.spec import ReportSpec, load_spec
from assistant.gongwen import part_of_title

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path("/work/shared/reference/000_bd26fd21e8274dde.txt")
DRAFTS = Path(__file__).parent / "offline-drafts"

# Spoken wording a writer strikes (the list and its classes), independent of the engine's tables.
SPOKEN = [
    r"(?<!编)发稿",
    r"以前只有",
    r"[一-龥]{2,}里(?=[一-龥，])(?<![这那哪公千万心])",
    r"在[省市县区]里",
    r"基本靠",
    r"要跟上",
    r"搞",
    r"弄",
    r"咱",
    r"俺",
    r"啥",
    r"咋",
    r"挺",
    r"蛮",
    r"这块|那块|这一块",
    r"抓得紧|抓好得紧",
    r"占大头",
    r"叫得响",
    r"[吧呢啊嘛](?=[，。；])",
    r"开起来",
    r"合拍",
    r"补充达到|补充到",
    r"开展重点课题领衔",
    r"开展\d+条",
]
NOTES_TO_SELF = [
    r"还没(?:统计|汇总|核对|定)",
    r"数还没",
    r"再定",
    r"再补",
    r"核对",
    r"待确认|待核实(?!：)|先空着|问一下|这里再改",
]
SET_PHRASES = ["新进展", "新成效", "落地见效", "精准发力", "扎实推进", "稳步提升", "提质增效", "新突破"]
ITEM = re.compile(r"([一二三四五六七八九十])是")
L1 = re.compile(r"^([一二三四五六七八九十]+)、(.+)$")
L2 = re.compile(r"^（([一二三四五六七八九十]+)）(.+)$")
_ASCII = str.maketrans({",": "，", ";": "；", ":": "：", "(": "（", ")": "）"})
_VERBISH = re.compile(
    r"开展|召开|举办|发布|推出|刊发|刊用|学习|培训|接待|新建|新增|建成|办结|收集|征集|达到|达|完成|组织|撰写|"
    r"讲授|制作|摄制|编报|编发|推送|采用|报送|覆盖|参加|列席|发展|打造|查摆|整改|培养|拍摄|开通|实现|突破|增长|"
    r"提高|提升|落实|检查|占|制定|建立|修订|研判|回复|播放|设立|新设|组建|补充|参训|报来|评选|调整|新建|办理"
)


@dataclass
class Score:
    name: str
    value: float
    notes: list[str] = field(default_factory=list)


@dataclass
class Parsed:
    intro: str = ""
    parts: list[tuple[str, str]] = field(default_factory=list)  # (L1 heading, body incl. subsections)
    subsections: list[tuple[str, str]] = field(default_factory=list)  # under 一、
    closing: str = ""


def normalise(text: str) -> str:
    lines = [ln.strip().translate(_ASCII) for ln in text.splitlines()]
    return "\n".join(ln for ln in lines if ln and not ln.startswith(("首页", "预览阅读")))


def parse(text: str) -> Parsed:
    lines = normalise(text).splitlines()[1:]  # the title line
    out = Parsed()
    current: list[str] | None = None
    head = ""
    intro: list[str] = []
    sub: tuple[str, list[str]] | None = None
    for ln in lines:
        m1, m2 = L1.match(ln), L2.match(ln)
        if m1:
            if current is not None:
                out.parts.append((head, "\n".join(current)))
            head, current = m1.group(2), []
            continue
        if m2 and len(out.parts) == 0 and current is not None:
            sub = (m2.group(2), [])
            out.subsections.append((sub[0], ""))
            continue
        if current is None:
            intro.append(ln)
            continue
        current.append(ln)
        if sub is not None and len(out.parts) == 0:
            sub[1].append(ln)
            out.subsections[-1] = (sub[0], "\n".join(sub[1]))
    if current is not None:
        if current and re.search(r"作出.{0,10}贡献|提供.{0,12}(?:保证|保障|动力)", current[-1]):
            out.closing = current.pop()
        out.parts.append((head, "\n".join(current)))
    out.intro = "\n".join(intro)
    return out


def items_of(text: str) -> list[str]:
    """The 一是… items of a text, each up to the next item."""
    marks = [m for m in ITEM.finditer(text) if m.start() == 0 or text[m.start() - 1] in "。：；\n，"]
    return [text[m.end() : (marks[i + 1].start() if i + 1 < len(marks) else len(text))] for i, m in enumerate(marks)]


def has_lead(item: str) -> bool:
    head = item.split("。", 1)[0]
    return len(head) <= 24 and not re.search(r"\d|XX|【", head) and "。" in item.strip("。\n")


def verb_before_number(item: str) -> bool:
    m = re.search(r"\d|XX|【待补充", item)
    return m is None or bool(_VERBISH.search(item[: m.start()]))


def notes_material(spec: ReportSpec | None) -> dict[str, int]:
    """How many problem, measure and plan items the notes give material for."""
    out = {"problems": 0, "measures": 0, "plans": 0}
    if spec is None:
        return out
    for s in spec.walk():
        if s.part == "problems":
            split = re.split(r"(?:改进措施|整改措施|措施|下一步|改进)[：:]", s.notes, maxsplit=1)
            out["problems"] += len(split_clauses(split[0], min_part=2))
            out["measures"] += len(split_clauses(split[1], min_part=2)) if len(split) > 1 else 0
        elif s.part == "plans":
            out["plans"] += len([c for c in split_clauses(s.notes, min_part=2) if not re.match(r"^\S{0,4}年是", c)])
    return out


def score(
    text: str, figures: list[Figure] | None = None, spec: ReportSpec | None = None, year: int | None = None
) -> list[Score]:
    p = parse(text)
    body = normalise(text)
    # structure
    s_notes, s = [], 0.0
    if re.search(r"汇报如下：$", p.intro.strip()):
        s += 1
    else:
        s_notes.append("导语不以“汇报如下：”结尾")
    order = [part_of_title(h) for h, _ in p.parts]
    if order[:3] == ["achievements", "problems", "plans"]:
        s += 1
    else:
        s_notes.append(f"一级标题的部分顺序为 {order}")
    developed = [t for t, b in p.subsections if len(items_of(b)) >= 2 or "另一方面" in b]
    if len(p.subsections) >= 2 and len(developed) == len(p.subsections):
        s += 1
    else:
        s_notes.append(f"（一）小节 {len(p.subsections)} 个，其中用一是/二是展开的 {len(developed)} 个")
    problems = next((b for h, b in p.parts if part_of_title(h) == "problems"), "")
    if re.search(r"措施|针对上述问题", problems) and len(items_of(problems)) >= 4:
        s += 1
    else:
        s_notes.append("问题部分没有同时写问题和措施")
    if p.closing:
        s += 1
    else:
        s_notes.append("没有收束句")
    structure = Score("结构", s, s_notes)
    # register
    r_notes: list[str] = []
    spoken = [m.group(0) for rx in SPOKEN for m in re.finditer(rx, body)]
    to_self = [m.group(0) for rx in NOTES_TO_SELF for m in re.finditer(rx, body)]
    errors = [f for f in check_text(body, figures or [], scope="report", year=year).style if f.severity == "error"]
    r = 5 - min(3, len(spoken)) - min(3, len(to_self)) - 0.5 * len(errors)
    if spoken:
        r_notes.append("口语遗留：" + "、".join(spoken))
    if to_self:
        r_notes.append("给自己的备注：" + "、".join(to_self))
    if errors:
        r_notes.append(f"规范错误 {len(errors)} 处：" + "、".join(f.rule for f in errors))
    register = Score("语体", max(0.0, r), r_notes)
    # substance
    all_items = [i for _, b in p.parts for i in items_of(b)]
    sub_items = [i for _, b in p.subsections for i in items_of(b)]
    plans = next((b for h, b in p.parts if part_of_title(h) == "plans"), "")
    leads = sum(has_lead(i) for i in all_items) / len(all_items) if all_items else 0.0
    ref_leads = REFERENCE_LEAD_SHARE
    verbs = sum(verb_before_number(i) for i in sub_items + items_of(plans)) / max(1, len(sub_items + items_of(plans)))
    want = notes_material(spec)
    m_split = re.split(r"针对上述问题[^：]*：", problems, maxsplit=1)
    n_problems = len(items_of(m_split[0]))
    n_measures = len(items_of(m_split[1])) if len(m_split) > 1 else 0
    n_plans = len(items_of(plans))
    enough = (
        (n_problems >= max(2, want["problems"]))
        + (n_measures >= max(2, want["measures"], min(n_problems, 4)))
        + (n_plans >= max(3, want["plans"]))
    ) / 3
    repeats = 0
    for para in body.splitlines():
        repeats += sum(max(0, para.count(ph) - 1) for ph in SET_PHRASES)
    sub_value = min(1.0, leads / ref_leads if ref_leads else 1) * 1.5 + verbs * 1.5 + enough * 2 - 0.5 * repeats
    sub_notes = [
        f"带小结引语的条目 {leads:.0%}（参考稿 {ref_leads:.0%}）",
        f"数字前有动词的条目 {verbs:.0%}",
        f"问题 {n_problems} 条、措施 {n_measures} 条、打算 {n_plans} 条（要点给出的材料：问题 {want['problems']}、"
        f"措施 {want['measures']}、打算 {want['plans']}）",
    ]
    if repeats:
        sub_notes.append(f"同一段内套话重复 {repeats} 次")
    substance = Score("内容", max(0.0, min(5.0, sub_value)), sub_notes)
    # figures
    if figures:
        result = check_text(body, figures, scope="report", year=year)
        flagged = result.summary.invented + result.summary.misattributed
        used = len(set(result.coverage.used))
        total = len({f.id for f in figures})
        cover = used / total if total else 1.0
        fig = Score("数字", max(0.0, 5 - 2 * flagged) * cover, [f"无依据 {flagged} 处，数据覆盖 {used}/{total}"])
    else:
        fig = Score("数字", float("nan"), ["参考稿的数字是 XX，不评"])
    return [structure, register, substance, fig]


def _reference_lead_share() -> float:
    if not REFERENCE.exists():
        return 0.9  # the reference's measured share (see comparison.md) when the file is not at hand
    p = parse(REFERENCE.read_text(encoding="utf-8"))
    items = [i for _, b in p.parts for i in items_of(b)]
    return sum(has_lead(i) for i in items) / len(items)


REFERENCE_LEAD_SHARE = _reference_lead_share()


def table(rows: list[tuple[str, list[Score]]]) -> str:
    names = [s.name for s in rows[0][1]]
    out = ["| 稿件 | " + " | ".join(names) + " | 合计 |", "|---|" + "---:|" * (len(names) + 1)]
    for label, scores in rows:
        vals = [s.value for s in scores]
        total = sum(v for v in vals if v == v)
        out.append(f"| {label} | " + " | ".join("—" if v != v else f"{v:.1f}" for v in vals) + f" | {total:.1f} |")
    return "\n".join(out)


def details(rows: list[tuple[str, list[Score]]]) -> str:
    out = []
    for label, scores in rows:
        out.append(f"\n### {label}\n")
        for s in scores:
            out.append(f"- **{s.name}**：" + ("；".join(s.notes) if s.notes else "无扣分"))
    return "\n".join(out)


def blocks(text: str) -> list[tuple[str, str]]:
    """(heading, paragraphs) in document order; the 导语 and 结束语 under their own names."""
    lines = [ln for ln in normalise(text).splitlines()[1:]]
    out: list[tuple[str, list[str]]] = [("导语", [])]
    for ln in lines:
        if L1.match(ln) or L2.match(ln):
            out.append((ln, []))
        else:
            out[-1][1].append(ln)
    if out and re.search(r"作出.{0,10}贡献|提供.{0,12}(?:保证|保障|动力)", (out[-1][1] or [""])[-1]):
        out.append(("结束语", [out[-1][1].pop()]))
    return [(h, "<br><br>".join(ps)) for h, ps in out]


def side_by_side(before: str, after: str) -> str:
    """A two-column table, part by part (headings matched by their number: 一、（一）…)."""

    def key(heading: str) -> str:
        m = re.match(r"^(（?[一二三四五六七八九十]+[）、])", heading)
        return m.group(1) if m else heading

    b, a = blocks(before), blocks(after)
    keys = list(dict.fromkeys([key(h) for h, _ in a] + [key(h) for h, _ in b]))
    bmap, amap = {key(h): (h, t) for h, t in b}, {key(h): (h, t) for h, t in a}
    rows = ["| 改进前 | 改进后 |", "|---|---|"]
    for k in keys:
        bh, bt = bmap.get(k, ("", "（无）"))
        ah, at = amap.get(k, ("", "（无）"))
        cell = lambda h, t: (f"**{h}**<br>" if h and h not in ("导语", "结束语") else f"*{h}*<br>" if h else "") + t  # noqa: E731
        rows.append(f"| {cell(bh, bt)} | {cell(ah, at)} |")
    return "\n".join(rows)


def offline_drafts() -> str:
    """Score the before/after drafts kept in evals/offline-drafts/ and the reference."""
    figures = load_figures(ROOT / "examples" / "figures.csv")
    spec = load_spec(ROOT / "examples" / "report-spec.yaml", figures)
    minimal_figures = load_figures(DRAFTS / "minimal-figures.csv")
    minimal_spec = load_spec(DRAFTS / "minimal-spec.yaml", minimal_figures)
    rows = []
    if REFERENCE.exists():
        # The scrape writes its years 202x: read as a year, so that only the prose is judged.
        reference = REFERENCE.read_text(encoding="utf-8").replace("202x", "2024")
        rows.append(("参考稿（/work/shared/reference）", score(reference, year=2024)))
    for name, label, figs, sp in (
        ("before.md", "示例汇报 改进前", figures, spec),
        ("after.md", "示例汇报 改进后", figures, spec),
        ("minimal-before.md", "最简提纲 改进前", minimal_figures, minimal_spec),
        ("minimal-after.md", "最简提纲 改进后", minimal_figures, minimal_spec),
    ):
        rows.append((label, score((DRAFTS / name).read_text(encoding="utf-8"), figs, sp, year=sp.year)))
    return table(rows) + "\n" + details(rows) + "\n"


COMPARISON_HEAD = """# 离线引擎：改进前后的两稿（评分细则见 ../rubric.md）

由 `.venv/bin/python -m evals.rubric --offline-drafts --write` 生成。两组稿件都由 `huibao demo --offline` /
`huibao draft --offline` 起草，没有人工修改：

- 示例汇报：`examples/report-spec.yaml` + `examples/figures.csv`（`before.md`、`after.md`）；
- 最简提纲：只写标题、单位、年度和各部分要点，章节编号 intro、1.1、1.2、2、3（`minimal-spec.yaml`、
  `minimal-figures.csv`；`minimal-before.md`、`minimal-after.md`）。

“改进前”是 issue 12 之前 main 分支的离线引擎。自动评分各项满分 5 分；参考稿的数字是 XX，不评数字一项，
它的年份 202x 按 2024 读，英文标点换成中文标点后再评，列出只为看清尺度。自动评分只是细则的一部分，
请对照下面的逐段对照，按 `../rubric.md` 的人工评分表自己打分。

## 自动评分

"""


def write_comparison() -> Path:
    out = DRAFTS / "comparison.md"
    parts = [COMPARISON_HEAD, offline_drafts()]
    for title, before, after in (
        ("示例汇报", "before.md", "after.md"),
        ("最简提纲", "minimal-before.md", "minimal-after.md"),
    ):
        parts.append(f"\n## 逐段对照：{title}\n\n")
        parts.append(
            side_by_side((DRAFTS / before).read_text(encoding="utf-8"), (DRAFTS / after).read_text(encoding="utf-8"))
        )
        parts.append("\n")
    out.write_text("".join(parts), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="按评分细则给草稿打分（自动部分）")
    ap.add_argument("drafts", nargs="*", type=Path)
    ap.add_argument("--spec", type=Path)
    ap.add_argument("--figures", type=Path)
    ap.add_argument("--offline-drafts", action="store_true", help="给 evals/offline-drafts/ 的前后两稿打分")
    ap.add_argument("--write", action="store_true", help="同时写出 evals/offline-drafts/comparison.md")
    args = ap.parse_args(argv)
    if args.offline_drafts and args.write:
        print(write_comparison())
        return 0
    if args.offline_drafts:
        print(offline_drafts())
        return 0
    figures = load_figures(args.figures) if args.figures else None
    spec = load_spec(args.spec, figures) if args.spec else None
    rows = [
        (str(d), score(d.read_text(encoding="utf-8"), figures, spec, year=spec.year if spec else None))
        for d in args.drafts
    ]
    if rows:
        print(table(rows) + "\n" + details(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
