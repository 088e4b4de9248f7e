"""Scoring one drafted case: what its final Markdown gets right and wrong.

`score_draft` turns a drafted report and the check of its whole text into a `CaseResult`: the
counts the metrics read (metrics.py) and one `Finding` per problem, located by section with a
little context, for the report's details.
"""

from __future__ import annotations

from assistant.check import CheckResult, StyleFinding, lint_style
from assistant.check.style import MARKDOWN_MESSAGES
from assistant.core.figures import Figure
from assistant.drafting.draft import ReportDraft
from assistant.evaluation.cases import EvalCase
from assistant.evaluation.results import CaseResult, Finding, StructureResult

_CONTEXT_CHARS = 14


# ---------------------------------------------------------------- structure


def check_structure(markdown: str, style: list[StyleFinding] | None = None) -> StructureResult:
    """The parts of a 年度工作汇报 in order, as the style checker sees the final text (title line
    first): its S1 (heading numbering) and S2 (导语 ending, part order, closing) findings at any
    severity, since a missing part or closing sentence is only a warning to the writer but fails
    the eval, and its Markdown findings. `style`: the checker's findings of `markdown` when the
    caller has them (scope "report"); otherwise the text is linted here."""
    if style is None:
        style = lint_style(markdown, scope="report")
    counts: dict[str, int] = {}
    for f in style:
        if f.rule in ("S1", "S2") or (f.rule == "L4" and f.message in MARKDOWN_MESSAGES):
            key = f"{f.rule} {f.message}"
            counts[key] = counts.get(key, 0) + 1
    reasons = [f"{r}（{n} 处）" if n > 1 else r for r, n in counts.items()]  # one line per kind of fault
    return StructureResult(passed=not reasons, reasons=reasons)


# ---------------------------------------------------------------- scoring one draft


def _context(text: str, start: int, end: int) -> str:
    before = text[max(0, start - _CONTEXT_CHARS) : start]
    after = text[end : end + _CONTEXT_CHARS]
    span = text[start:end] or "∅"
    if len(span) > 40:
        span = span[:18] + "……" + span[-18:]
    out = f"…{before}⟦{span}⟧{after}…"
    return out.replace("\n", "⏎")


def _section_spans(report: ReportDraft, markdown: str) -> list[tuple[int, int, str]]:
    """(start, end, section id) of each section's heading and paragraphs in to_markdown()."""
    spans, pos = [], len(report.title)
    for s in report.sections:
        blocks = ([s.heading] if s.heading else []) + [p.strip() for p in s.text.split("\n") if p.strip()]
        start = None
        for b in blocks:
            at = markdown.find(b, pos)
            if at < 0:
                continue
            start = at if start is None else start
            pos = at + len(b)
        if start is not None:
            spans.append((start, pos, s.section_id))
    return spans


def _section_at(spans: list[tuple[int, int, str]], offset: int) -> str | None:
    for start, end, sid in spans:
        if start <= offset < end:
            return sid
    return None


_COUNTER = {
    "invented": "invented",
    "misattributed": "misattributed",
    "unverified": "unverified",
    "placeholder": "placeholders",
}


def score_draft(
    case: EvalCase,
    report: ReportDraft,
    figures: list[Figure],
    check: CheckResult,
    *,
    first_answers: dict[str, list[str]] | None = None,
) -> CaseResult:
    """Score one drafted report (its final Markdown and the check of it)."""
    markdown = report.to_markdown()
    spans = _section_spans(report, markdown)
    exp = case.expectations
    result = CaseResult(
        case_id=case.id,
        title=report.title,
        description=case.description,
        engine=report.engine,
        expect_placeholders=exp.expect_placeholders,
        min_placeholders=exp.min_placeholders,
        draft=markdown,
    )
    findings: list[Finding] = []
    # Each flagged status: the counter it adds to and the message when the checker gives none.
    number_findings = {
        "invented": "数据表中找不到依据的数字",
        "misattributed": "另一事项的数据，写在了这一事项上",
        "unverified": "模型编造或错配、修正后仍未改正，已标注待核实",
        "placeholder": "应有的待补充项" if exp.expect_placeholders else "意外的待补充项",
    }
    for m in check.numbers:
        if m.status not in number_findings:
            continue
        setattr(result, _COUNTER[m.status], getattr(result, _COUNTER[m.status]) + 1)
        own_message = m.status in ("invented", "misattributed") and m.message
        findings.append(
            Finding(
                kind=m.status,
                section_id=_section_at(spans, m.start),
                text=m.text,
                context=_context(markdown, m.start, m.end),
                message=own_message or number_findings[m.status],
            )
        )
    for f in check.style:
        kind = "style_error" if f.severity == "error" else "style_warning"
        findings.append(
            Finding(
                kind=kind,
                section_id=_section_at(spans, f.start),
                rule=f.rule,
                text=markdown[f.start : f.end],
                message=f.message,
                context=_context(markdown, f.start, f.end),
            )
        )
    result.style_errors = check.summary.style_errors
    result.style_warnings = check.summary.style_warnings
    result.figures_total = len(figures)
    result.figures_used = len(set(check.coverage.used))
    result.unused_figures = list(check.coverage.unused)
    result.structure = check_structure(markdown, check.style)
    for phrase in exp.forbidden_phrases:
        at = markdown.find(phrase)
        if at >= 0:
            result.forbidden_found.append(phrase)
            findings.append(
                Finding(
                    kind="forbidden",
                    section_id=_section_at(spans, at),
                    text=phrase,
                    message="本案例不应出现的表述",
                    context=_context(markdown, at, at + len(phrase)),
                )
            )
    for phrase in exp.required_phrases:
        if phrase not in markdown:
            result.required_missing.append(phrase)
            findings.append(Finding(kind="missing_phrase", text=phrase, message="本案例应出现而未出现的表述"))
    for s in report.sections:
        if s.provenance.repaired:
            result.repaired_sections.append(s.section_id)
        if s.provenance.error and s.provenance.engine == "offline":
            result.fallback_sections.append(s.section_id)
    if first_answers is not None:
        result.first_answer_invented = sum(len(v) for v in first_answers.values())
        for sid, texts in first_answers.items():
            for t in texts:
                findings.append(
                    Finding(
                        kind="first_answer_invented",
                        section_id=sid,
                        text=t,
                        message="模型初稿中编造的数字（随后进入修正轮）",
                    )
                )
    result.findings = findings
    return result
