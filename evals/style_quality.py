"""The style check's false alarms on published official prose (issue 12, part 1).

    python -m evals.style_quality [--json F] [--findings F]     # from the project folder

Runs the style check exactly as `huibao check --scope section` does (lint_style, scope
"section", no report year, the office terms of HUIBAO_TERMS if set) over every document of
evals/style/corpus/ (published reports nobody on this project wrote; sources and licence in
evals/style/sources.yaml) and prints errors and warnings per 5,000 characters, rule by rule; then
the same for evals/register/national/ (the national 政府工作报告 of 1992–2016), in a table of its own.
Every finding there is a false alarm by construction: the documents were published as they
are. The findings, each with its context, go to evals/style/findings.md for review.

Characters are counted without whitespace (a document's line breaks are not prose). The target
(errors per 5,000 characters) is in evals/style/thresholds.yaml; tests/test_style_quality.py
asserts it through `measure()`. Exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.check import lint_style
from assistant.check.result import StyleFinding
from assistant.check.style import GUIDANCE, L6_ERROR, L6_WARNING
from assistant.gongwen import SENTENCE_END, sentences

HERE = Path(__file__).resolve().parent / "style"
CORPUS = HERE / "corpus"
SOURCES = HERE / "sources.yaml"
THRESHOLDS = HERE / "thresholds.yaml"
FINDINGS = HERE / "findings.md"
# The State Council's 政府工作报告 of 1992–2016 (sources in that folder's sources.yaml), measured in a
# table of its own: the register rules' false-alarm set (evals/register_quality.py), read here by
# every style rule too. Not in the calibration of L6 (the corpus above is).
NATIONAL = HERE.parent / "register" / "national"
NATIONAL_FINDINGS = HERE / "findings-national.md"
PER = 5000
NEAR_MISS = "疑似规范表述的误写"  # how check/nearmiss.py findings begin
PERCENTILES = (50, 95, 99, 99.5, 99.9)
_CONTEXT = 16
_SPACE = re.compile(r"\s")


@dataclass
class DocResult:
    name: str
    chars: int
    findings: list[StyleFinding]
    text: str = field(repr=False)


@dataclass
class Measurement:
    docs: list[DocResult]

    @property
    def chars(self) -> int:
        return sum(d.chars for d in self.docs)

    def count(self, severity: str) -> Counter[str]:
        """Findings of one severity, by rule id (P-… collapsed to its own id)."""
        return Counter(f.rule for d in self.docs for f in d.findings if f.severity == severity)

    def rate(self, severity: str, rule: str | None = None) -> float:
        counts = self.count(severity)
        n = counts[rule] if rule else sum(counts.values())
        return n * PER / self.chars if self.chars else 0.0

    def near_misses(self) -> list[tuple[str, StyleFinding]]:
        """Findings of the political near-miss rule (check/nearmiss.py): all false alarms here."""
        return [(d.name, f) for d in self.docs for f in d.findings if f.message.startswith(NEAR_MISS)]

    def sentence_lengths(self, guidance: bool = True) -> list[int]:
        """Lengths of the corpus's sentences (those ending with 。！？；), as rule L6 counts them;
        guidance=False leaves out the 总体要求/指导思想 sentences, which L6 never calls errors."""
        out = []
        for d in self.docs:
            for start, end in sentences(d.text):
                stop = SENTENCE_END.search(d.text, start, end)
                if stop:
                    sentence = d.text[start : stop.start()].strip()
                    if guidance or not GUIDANCE.search(sentence):
                        out.append(len(sentence))
        return sorted(out)

    def table(self) -> list[tuple[str, int, float, int, float]]:
        """(rule, errors, errors per 5,000, warnings, warnings per 5,000), rules sorted."""
        errors, warnings = self.count("error"), self.count("warning")
        rules = sorted(set(errors) | set(warnings), key=_rule_key)
        return [(r, errors[r], self.rate("error", r), warnings[r], self.rate("warning", r)) for r in rules]


def _rule_key(rule: str) -> tuple[int, str]:
    order = {"S": 0, "L": 1, "P": 2, "N": 3}
    return order.get(rule[:1], 9), rule


def load_sources() -> list[dict]:
    return yaml.safe_load(SOURCES.read_text(encoding="utf-8"))["documents"]


def load_target() -> float:
    return float(yaml.safe_load(THRESHOLDS.read_text(encoding="utf-8"))["errors_per_5000"])


def measure(corpus: Path = CORPUS) -> Measurement:
    docs = []
    for path in sorted(corpus.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        findings = lint_style(text, scope="section")
        docs.append(DocResult(path.name, len(_SPACE.sub("", text)), findings, text))
    return Measurement(docs)


def _context(text: str, f: StyleFinding) -> str:
    before = text[max(0, f.start - _CONTEXT) : f.start].replace("\n", "⏎")
    span = text[f.start : f.end].replace("\n", "⏎")
    if len(span) > 60:
        span = span[:28] + "……" + span[-28:]
    after = text[f.end : f.end + _CONTEXT].replace("\n", "⏎")
    return f"…{before}⟦{span}⟧{after}…"


def table_text(m: Measurement) -> str:
    lines = [
        f"{len(m.docs)} documents, {m.chars:,} characters (without whitespace)",
        "",
        f"| rule | errors | per {PER:,} | warnings | per {PER:,} |",
        "|---|---:|---:|---:|---:|",
    ]
    for rule, e, er, w, wr in m.table():
        lines.append(f"| {rule} | {e} | {er:.2f} | {w} | {wr:.2f} |")
    e_total, w_total = sum(m.count("error").values()), sum(m.count("warning").values())
    lines.append(f"| **all** | **{e_total}** | **{m.rate('error'):.2f}** | {w_total} | {m.rate('warning'):.2f} |")
    lines.append("")
    for label, lengths in (
        ("all sentences", m.sentence_lengths()),
        ("without 总体要求/指导思想 sentences", m.sentence_lengths(guidance=False)),
    ):
        if lengths:
            cuts = ", ".join(
                f"p{q:g} {lengths[min(len(lengths) - 1, int(q / 100 * len(lengths)))]}" for q in PERCENTILES
            )
            lines.append(f"sentence length, {label} ({len(lengths):,}): {cuts}, max {lengths[-1]}")
    lines += [
        f"L6 warns above {L6_WARNING} characters and errs above {L6_ERROR} (never on a 总体要求/指导思想 sentence)",
        f"political near misses flagged (all false alarms here): {len(m.near_misses())}",
    ]
    return "\n".join(lines)


def findings_md(m: Measurement, title: str = "the published corpus") -> str:
    out = [
        f"# Style findings on {title}",
        "",
        "Written by `python -m evals.style_quality`. Every finding here is on published text, so each",
        "error is a false alarm to fix at its root (a class, not the sentence); warnings are listed for",
        "review.",
        "",
        table_text(m),
        "",
    ]
    for severity, title in (("error", "Errors"), ("warning", "Warnings")):
        out.append(f"## {title}")
        out.append("")
        for d in m.docs:
            found = [f for f in d.findings if f.severity == severity]
            if not found:
                continue
            out.append(f"### {d.name}")
            out.append("")
            for f in found:
                out.append(f"- {f.rule} {f.message} — {_context(d.text, f)}")
            out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path, help="also write the table as JSON here")
    ap.add_argument("--findings", type=Path, default=FINDINGS, help=f"where the findings go (default {FINDINGS})")
    args = ap.parse_args(argv)
    m = measure()
    print(table_text(m))
    target = load_target()
    rate = m.rate("error")
    print(f"\nerrors per {PER:,} characters: {rate:.2f} (target ≤ {target})")
    args.findings.write_text(findings_md(m), encoding="utf-8")
    print(f"findings: {args.findings}")
    national = measure(NATIONAL)
    national_rate = national.rate("error")
    print(f"\nnational 政府工作报告 1992–2016 ({NATIONAL.relative_to(HERE.parent)}):\n{table_text(national)}")
    print(f"\nerrors per {PER:,} characters there: {national_rate:.2f} (target ≤ {target})")
    NATIONAL_FINDINGS.write_text(findings_md(national, "the national 政府工作报告 of 1992–2016"), encoding="utf-8")
    print(f"findings: {NATIONAL_FINDINGS}")
    if args.json:
        rows = [
            {"rule": r, "errors": e, "errors_per_5000": er, "warnings": w, "warnings_per_5000": wr}
            for r, e, er, w, wr in m.table()
        ]
        args.json.write_text(
            json.dumps({"chars": m.chars, "errors_per_5000": rate, "rules": rows}, ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
    return 0 if rate <= target and national_rate <= target else 1


if __name__ == "__main__":
    sys.exit(main())
