"""Number grounding and 公文 style lint: pure functions over a text and the supplied figures.

from assistant.check import check_text
result = check_text(draft, figures, scope="report", year=2025)
result.clean, result.to_json_dict()
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from assistant.check.derived import DerivedValue, derived_values
from assistant.check.numbers import Extraction, check_numbers, coverage, extract, mark_unverified, placeholder_mentions
from assistant.check.result import CheckResult, Coverage, Derivation, NumberMention, Status, StyleFinding, Summary
from assistant.check.style import lint_style
from assistant.check.terms import OfficeTerms, office_terms
from assistant.core.figures import Figure

__all__ = [
    "CheckResult",
    "Coverage",
    "Derivation",
    "DerivedValue",
    "Extraction",
    "NumberMention",
    "OfficeTerms",
    "Status",
    "StyleFinding",
    "Summary",
    "check_numbers",
    "check_text",
    "derived_values",
    "extract",
    "lint_style",
    "mark_unverified",
    "office_terms",
]


def check_text(
    text: str,
    figures: list[Figure] | None,
    *,
    scope: Literal["report", "section"] = "report",
    year: int | None = None,
    terms: str | Path | None = None,
    notes: str | None = None,
) -> CheckResult:
    """Both checks over `text`, with figure coverage and a summary. `figures` None: no number is
    judged (grounded, invented and misattributed stay 0), but the placeholders and 【待核实】 marks
    are still listed: they are gaps to fill whatever the figures say."""
    extraction = extract(text, terms)  # one scan for the numbers and the style lint's N-rules
    numbers = (
        placeholder_mentions(text, extraction.placeholders)
        if figures is None
        else check_numbers(text, figures, terms=terms, extraction=extraction, notes=notes)
    )
    figures = figures or []
    style = lint_style(text, scope=scope, year=year, terms=terms, extraction=extraction)
    used, unused = coverage(numbers, figures)
    summary = Summary(
        grounded=sum(m.status == "grounded" for m in numbers),
        invented=sum(m.status == "invented" for m in numbers),
        misattributed=sum(m.status == "misattributed" for m in numbers),
        unverified=sum(m.status == "unverified" for m in numbers),
        placeholders=sum(m.status == "placeholder" for m in numbers),
        style_errors=sum(s.severity == "error" for s in style),
        style_warnings=sum(s.severity == "warning" for s in style),
    )
    return CheckResult(numbers=numbers, style=style, coverage=Coverage(used=used, unused=unused), summary=summary)
