"""Measured quality of the two checkers on the labelled fixtures.

    .venv/bin/python -m evals.checker_quality   # from the project folder

Prints precision/recall of flagged-number detection (invented or misattributed; overall and
per number form), per
style rule family, and style errors per 5,000 characters of clean prose. Exits 1 when a
target is missed: invented recall 1.0, invented precision ≥ 0.98, ≤ 1 error per 5,000 clean
characters. tests/test_check_quality.py asserts the same targets through `score_all()`.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.check import check_numbers, lint_style
from assistant.core.figures import Figure, format_value
from assistant.core.textio import decode_text, normalise_newlines, split_front_matter

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
TARGET_RECALL, TARGET_PRECISION, TARGET_CLEAN_ERRORS = 1.0, 0.98, 1.0
SEPARATOR = re.compile(r"\n<!-- .*? -->\n")


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    right: int = 0  # labels whose status (grounded/invented/placeholder/none) came out right
    total: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def parse_figures(specs: list) -> list[Figure]:
    """Fixture figures: "value unit" (item 数据N), "value unit item", or a mapping with any of
    id, item, value, unit, aliases, last_year, part_of. Ids are F01, F02… unless given."""
    figs = []
    for i, spec in enumerate(specs, start=1):
        if isinstance(spec, dict):
            data = {"id": f"F{i:02d}", "item": f"数据{i}", **spec}
            data["value"] = float(data["value"])
            data["unit"] = str(data["unit"])
            figs.append(Figure(**data))
            continue
        value, rest = str(spec).split(None, 1)
        unit, _, item = rest.partition(" ")
        figs.append(Figure(id=f"F{i:02d}", item=item.strip() or f"数据{i}", value=float(value), unit=unit.strip('"')))
    return figs


FLAGGED = {"invented", "misattributed"}  # what a draft must not keep; the detection target


def score_numbers(path: Path = FIXTURES / "numbers.yaml") -> tuple[Counts, dict[str, Counts], int, int]:
    """Flagged-number detection counts (invented or misattributed; overall, per category) and
    status accuracy (right, total): a misattributed number labelled invented is detected but
    its status is wrong."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    overall, per = Counts(), defaultdict(Counts)
    right = total = 0
    for n, case in enumerate(cases, start=1):
        text = case["text"]
        mentions = check_numbers(text, parse_figures(case.get("figures") or []), notes=case.get("notes"))
        claimed: set[int] = set()
        cat = per[case["category"]]
        for key, want in case["expect"].items():
            key = str(key)
            s = text.find(key)
            if s < 0:
                raise ValueError(f"numbers.yaml case {n}: “{key}” not in text")
            e = s + len(key)
            hits = [i for i, m in enumerate(mentions) if m.start < e and s < m.end]
            claimed.update(hits)
            got = mentions[hits[0]].status if hits else "none"
            exact = not hits or (mentions[hits[0]].start, mentions[hits[0]].end) == (s, e) or want == "none"
            total += 1
            ok = got == want and exact
            right += ok
            cat.total += 1
            cat.right += ok
            if not ok:
                msg = f"case {n} [{case['category']}] {text!r}: “{key}” expected {want}, got {got}" + (
                    "" if exact else f" (span “{mentions[hits[0]].text}”)"
                )
                for c in (overall, cat):
                    c.failures.append(msg)
            for c in (overall, cat):
                if want in FLAGGED and got in FLAGGED:
                    c.tp += 1
                elif want in FLAGGED:
                    c.fn += 1
                elif got in FLAGGED:
                    c.fp += 1
        for i, m in enumerate(mentions):
            if i not in claimed and m.status in FLAGGED:
                for c in (overall, cat):
                    c.fp += 1
                    c.failures.append(f"case {n} [{case['category']}] {text!r}: unexpected {m.status} “{m.text}”")
    return overall, dict(per), right, total


def _family(rule: str) -> str:
    return "P" if rule.startswith("P-") else rule


def score_style(path: Path = FIXTURES / "style.yaml") -> dict[str, Counts]:
    """Per rule family: a `fire` id that fired is a TP, one that did not an FN; a finding that
    the case does not list in `fire` is an FP (so `quiet` and unlisted false alarms both count)."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    per: dict[str, Counts] = defaultdict(Counts)
    for n, case in enumerate(cases, start=1):
        findings = lint_style(case["text"], scope=case.get("scope", "section"), year=case.get("year"))
        fired = {f.rule for f in findings}
        want = [str(r) for r in case.get("fire") or []]
        for rule in want:
            hit = any(r == rule or (rule == "P" and r.startswith("P-")) for r in fired)
            c = per[_family(rule)]
            if hit:
                c.tp += 1
            else:
                c.fn += 1
                c.failures.append(f"style case {n} {case['text'][:40]!r}: {rule} did not fire")
        for rule in sorted(fired):
            if rule not in want and not ("P" in want and rule.startswith("P-")):
                c = per[_family(rule)]
                c.fp += 1
                c.failures.append(f"style case {n} {case['text'][:40]!r}: unexpected {rule}")
    return dict(per)


def score_clean(path: Path = FIXTURES / "clean_prose.md") -> tuple[int, int, int, list[str]]:
    """(characters, style errors, style warnings, messages) over the clean prose, report scope."""
    text = path.read_text(encoding="utf-8")
    chars = errors = warnings = 0
    notes = []
    for part in SEPARATOR.split(text):
        part = part.strip("\n")
        chars += len(part)
        for f in lint_style(part, scope="report", year=2025):
            if f.severity == "error":
                errors += 1
            else:
                warnings += 1
            notes.append(f"{f.rule} {f.severity} “{part[f.start : f.end][:30]}” {f.message}")
    return chars, errors, warnings, notes


def score_independent(folder: Path = ROOT / "knowledge" / "past-reports") -> tuple[int, int, int, int] | None:
    """Style errors on prose this checker's author did not write (the sample knowledge base),
    when it is there: (files, characters, errors, warnings). Reported, not gated."""
    files = sorted(folder.glob("*.md")) if folder.is_dir() else []
    if not files:
        return None
    chars = errors = warnings = 0
    for path in files:
        # read as ingest reads them (any encoding, front matter per the shared pattern)
        _, text = split_front_matter(normalise_newlines(decode_text(path.read_bytes())))
        year = re.search(r"(20\d{2})", path.name)
        chars += len(text)
        for f in lint_style(text, scope="report", year=int(year.group(1)) if year else None):
            errors += f.severity == "error"
            warnings += f.severity == "warning"
    return len(files), chars, errors, warnings


GROUNDING = ROOT / "evals" / "grounding" / "paragraphs.yaml"
_FIRST_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass
class Grounding:
    """Item-aware grounding on published paragraphs (evals/grounding/): the untouched originals,
    planted swaps (a plain number replaced by another same-unit item's value of its paragraph,
    分别 lists included) and planted wrong derived numbers (the last written digit moved by 3)."""

    paragraphs: int = 0
    plain: int = 0  # plain labelled mentions checked on the originals
    plain_right: int = 0  # grounded to the labelled figure
    plain_other: int = 0  # grounded, but to another figure
    plain_invented: int = 0
    plain_misattributed: int = 0  # must be 0
    derived: int = 0  # derived labelled mentions on the originals
    derived_right: int = 0  # grounded
    derived_wrong: int = 0  # flagged: must be 0
    inconsistent: int = 0  # published numbers that do not add up
    inconsistent_flagged: int = 0
    extra_flagged: int = 0  # unlabelled numbers flagged on the originals
    swaps: int = 0
    swaps_misattributed: int = 0
    swaps_flagged: int = 0  # misattributed or invented
    respectively_swaps: int = 0
    respectively_caught: int = 0
    wrong_derived: int = 0
    wrong_derived_flagged: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def swap_recall(self) -> float:
        return self.swaps_misattributed / self.swaps if self.swaps else 1.0

    @property
    def derived_accuracy(self) -> float:
        return self.derived_right / self.derived if self.derived else 1.0


def _paragraph_figures(p: dict) -> list[Figure]:
    """The paragraph's figures table as an office would supply it. A row the text gives only a
    rate for (value null, "固定资产投资增长13.5%") is supplied as that rate, a % figure; an
    approximate-only row is left out (nothing exact to supply)."""
    # the rate as written: "下降2.2%" is 2.2, "-0.7%" is -0.7
    growth = {
        m["figures"][0]: float(m["value"]) if "-" in m["text"] else abs(float(m["value"]))
        for m in p["mentions"]
        if m.get("derived") == "growth"
    }
    ids = {f["id"] for f in p["figures"] if f.get("value") is not None or f["id"] in growth}
    figs = []
    for f in p["figures"]:
        if f["id"] not in ids:
            continue
        value, unit, last_year = f.get("value"), f.get("unit") or "", f.get("last_year")
        if value is None:
            value, unit, last_year = growth[f["id"]], "%", None
        figs.append(
            Figure(
                id=str(f["id"]),
                item=str(f["item"]),
                value=float(value),
                unit=str(unit),
                aliases=[str(a) for a in f.get("aliases") or []],
                last_year=None if last_year is None else float(last_year),
                part_of=f.get("part_of") if f.get("part_of") in ids else None,
            )
        )
    return figs


def _span(text: str, mention: dict) -> tuple[int, int]:
    pos = -1
    for _ in range(mention.get("occurrence", 1)):
        pos = text.find(mention["text"], pos + 1)
    return pos, pos + len(mention["text"])


def _hit(mentions: list, s: int, e: int):
    return next((m for m in mentions if m.start < e and s < m.end), None)


def score_grounding(path: Path = GROUNDING) -> Grounding | None:
    """Measure item-aware grounding on the published paragraphs, when the set is there."""
    if not path.is_file():
        return None
    paras = yaml.safe_load(path.read_text(encoding="utf-8"))["paragraphs"]
    g = Grounding(paragraphs=len(paras))
    for p in paras:
        text, figs = p["text"], _paragraph_figures(p)
        by_id = {f.id: f for f in figs}
        found = check_numbers(text, figs)
        labelled: list[tuple[int, int]] = []
        for m in p["mentions"]:
            s, e = _span(text, m)
            labelled.append((s, e))
            got = _hit(found, s, e)
            status = got.status if got else "none"
            where = f"{p['id']} “{m['text']}”"
            if m.get("inconsistent"):
                g.inconsistent += 1
                g.inconsistent_flagged += status in FLAGGED
                continue
            if m.get("approx") or m.get("alt_unit") or m.get("of") or m.get("base") or m.get("derived") == "gap":
                continue
            if "derived" in m:
                if not all(x in by_id for x in m["figures"]):
                    continue
                g.derived += 1
                if status == "grounded":
                    g.derived_right += 1
                else:
                    g.derived_wrong += status in FLAGGED
                    g.failures.append(f"{where} ({m['derived']}) got {status}: {got.message if got else ''}")
                continue
            if m["figure"] not in by_id:
                continue
            g.plain += 1
            if status == "grounded" and got is not None and got.figure_id == m["figure"]:
                g.plain_right += 1
            elif status == "grounded":
                g.plain_other += 1
            elif status == "misattributed":
                g.plain_misattributed += 1
                g.failures.append(f"{where} misattributed: {got.message if got else ''}")
            else:
                g.plain_invented += 1
                g.failures.append(f"{where} {status}: {got.message if got else ''}")
        for m in found:
            if m.status in FLAGGED and not any(m.start < e and s < m.end for s, e in labelled):
                g.extra_flagged += 1
                g.failures.append(f"{p['id']} unlabelled “{m.text}” {m.status}: {m.message}")
        _plant_swaps(p, text, figs, g)
        _plant_wrong_derived(p, text, figs, g)
    return g


def _replace_number(text: str, s: int, e: int, new: str) -> str | None:
    m = _FIRST_NUMBER.search(text, s, e)
    return None if m is None else text[: m.start()] + new + text[m.end() :]


def _plant_swaps(p: dict, text: str, figs: list[Figure], g: Grounding) -> None:
    by_id = {f.id: f for f in figs}
    plain = [m for m in p["mentions"] if "figure" in m and "derived" not in m and not (m.get("approx") or m.get("of"))]
    plain = [m for m in plain if m["figure"] in by_id and not m.get("alt_unit")]
    in_list = _respectively_mentions(p, text)
    for m in plain:
        fa = by_id[m["figure"]]
        s, e = _span(text, m)
        for other in plain:
            fb = by_id[other["figure"]]
            if fb.id == fa.id or fb.unit != fa.unit or fb.value == fa.value:
                continue
            if any(f.value == fb.value for f in figs if f.id != fb.id and f.unit == fb.unit):
                continue  # the value is two items' figure: no swap can be told
            planted = _replace_number(text, s, e, format_value(fb.value))
            if planted is None:
                continue
            delta = len(planted) - len(text)
            got = _hit(check_numbers(planted, figs), s, e + delta)
            status = got.status if got else "none"
            g.swaps += 1
            g.swaps_misattributed += status == "misattributed"
            g.swaps_flagged += status in FLAGGED
            if (s, e) in in_list and (_span(text, other) in in_list):
                g.respectively_swaps += 1
                g.respectively_caught += status in FLAGGED
            if status != "misattributed":
                g.failures.append(f"swap {p['id']} “{m['text']}”→{format_value(fb.value)} ({fb.item}) got {status}")


def _respectively_mentions(p: dict, text: str) -> set[tuple[int, int]]:
    spans = set()
    for mo in re.finditer("分别", text):
        stop = min([x for x in (text.find(c, mo.end()) for c in "。;；") if x >= 0] or [len(text)])
        for m in p["mentions"]:
            s, e = _span(text, m)
            if mo.end() <= s < stop:
                spans.add((s, e))
    return spans


def _plant_wrong_derived(p: dict, text: str, figs: list[Figure], g: Grounding) -> None:
    ids = {f.id for f in figs}
    for m in p["mentions"]:
        kind = m.get("derived")
        if kind not in ("growth", "difference", "points", "share", "sum", "multiple") or m.get("approx"):
            continue
        if m.get("inconsistent") or m.get("base") or not all(x in ids for x in m["figures"]):
            continue
        s, e = _span(text, m)
        num = _FIRST_NUMBER.search(text, s, e)
        if num is None:
            continue
        digits = len(num.group(0).split(".")[1]) if "." in num.group(0) else 0
        wrong = f"{float(num.group(0)) + 3 * 10**-digits:.{digits}f}"  # as many decimals as written
        planted = text[: num.start()] + wrong + text[num.end() :]
        got = _hit(check_numbers(planted, figs), s, e + len(planted) - len(text))
        g.wrong_derived += 1
        flagged = got is not None and got.status in FLAGGED
        g.wrong_derived_flagged += flagged
        if not flagged:
            g.failures.append(f"wrong {kind} {p['id']} “{m['text']}”→{wrong} got {got.status if got else 'none'}")


def score_all() -> dict:
    overall, per, right, total = score_numbers()
    style = score_style()
    chars, errors, warnings, notes = score_clean()
    per_5000 = errors * 5000 / chars
    return {
        "numbers": overall,
        "numbers_per_category": per,
        "status_right": right,
        "status_total": total,
        "style": style,
        "clean_chars": chars,
        "clean_errors": errors,
        "clean_warnings": warnings,
        "clean_errors_per_5000": per_5000,
        "clean_notes": notes,
        "passed": overall.recall >= TARGET_RECALL
        and overall.precision >= TARGET_PRECISION
        and per_5000 <= TARGET_CLEAN_ERRORS,
    }


def main() -> int:
    r = score_all()
    o = r["numbers"]
    print("数字核对：问题数字检出（invented 无据 + misattributed 错配）")
    print(f"{'类别':<10}{'TP':>5}{'FP':>5}{'FN':>5}{'精确率':>9}{'召回率':>9}{'标注正确':>10}")
    for cat, c in sorted(r["numbers_per_category"].items()):
        print(f"{cat:<10}{c.tp:>5}{c.fp:>5}{c.fn:>5}{c.precision:>9.3f}{c.recall:>9.3f}{f'{c.right}/{c.total}':>10}")
    overall_labels = f"{r['status_right']}/{r['status_total']}"
    print(f"{'合计':<10}{o.tp:>5}{o.fp:>5}{o.fn:>5}{o.precision:>9.3f}{o.recall:>9.3f}{overall_labels:>10}")
    print(f"全部标注（含有据/待补充/非数字）状态正确：{r['status_right']}/{r['status_total']}")
    print("\n格式用语：按规则族")
    print(f"{'规则':<8}{'TP':>5}{'FP':>5}{'FN':>5}{'精确率':>9}{'召回率':>9}")
    for fam, c in sorted(r["style"].items()):
        print(f"{fam:<8}{c.tp:>5}{c.fp:>5}{c.fn:>5}{c.precision:>9.3f}{c.recall:>9.3f}")
    print(
        f"\n规范文稿误报：{r['clean_chars']} 字，错误 {r['clean_errors']} 处，提示 {r['clean_warnings']} 处，"
        f"每 5000 字错误 {r['clean_errors_per_5000']:.2f} 处"
    )
    independent = score_independent()
    if independent:
        n, chars, errors, warnings = independent
        print(
            f"独立文稿误报（knowledge/past-reports，{n} 篇，非本检查作者所写）：{chars} 字，错误 {errors} 处，"
            f"提示 {warnings} 处，每 5000 字错误 {errors * 5000 / chars:.2f} 处"
        )
    failures = o.failures + [m for c in r["style"].values() for m in c.failures] + r["clean_notes"]
    if failures:
        print("\n未通过的标注：")
        for m in failures:
            print("  " + m)
    print(
        f"\n目标：召回率 {TARGET_RECALL}，精确率 ≥ {TARGET_PRECISION}，规范文稿每 5000 字错误 ≤ {TARGET_CLEAN_ERRORS:g}："
        + ("达到" if r["passed"] else "未达到")
    )
    return 0 if r["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
