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
from assistant.core.figures import Figure
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
