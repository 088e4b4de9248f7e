"""What scoring one case produces: the counts the metrics read and the findings the report lists."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class JudgeScore(BaseModel):
    """A model's rubric score of one report (judge.py): 1–5 per criterion, or why there is none."""

    scores: dict[str, float] = {}
    reason: str = ""
    error: str | None = None

    @property
    def average(self) -> float | None:
        return round(sum(self.scores.values()) / len(self.scores), 2) if self.scores else None


class Finding(BaseModel):
    kind: Literal[
        "invented",
        "misattributed",
        "unverified",
        "placeholder",
        "style_error",
        "style_warning",
        "forbidden",
        "missing_phrase",
        "first_answer_invented",
    ]
    section_id: str | None = None
    rule: str | None = None
    text: str
    message: str = ""
    context: str = ""


class StructureResult(BaseModel):
    passed: bool
    reasons: list[str] = []


class CaseResult(BaseModel):
    case_id: str
    title: str = ""
    description: str = ""
    engine: str = ""  # offline / model / mixed
    expect_placeholders: bool = False
    min_placeholders: int = 1
    invented: int = 0  # unmarked invented numbers in the final text
    misattributed: int = 0  # unmarked numbers that are another item's figure (count as invented)
    unverified: int = 0  # marked 【待核实：…】 after a failed repair
    placeholders: int = 0  # 【待补充：…】 / XX
    first_answer_invented: int | None = None  # model runs: numbers invented in first answers
    repaired_sections: list[str] = []
    fallback_sections: list[str] = []  # model error → drafted offline
    figures_used: int = 0
    figures_total: int = 0
    unused_figures: list[str] = []
    style_errors: int = 0
    style_warnings: int = 0
    structure: StructureResult = StructureResult(passed=False)
    forbidden_found: list[str] = []
    required_missing: list[str] = []
    findings: list[Finding] = []
    judge: JudgeScore | None = None
    error: str | None = None  # the case could not be loaded or drafted
    draft: str = ""  # the final Markdown

    @property
    def invented_total(self) -> int:
        return self.invented + self.misattributed + self.unverified

    @property
    def coverage(self) -> float:
        return self.figures_used / self.figures_total if self.figures_total else 1.0

    @property
    def unexpected_placeholders(self) -> int:
        return 0 if self.expect_placeholders else self.placeholders
