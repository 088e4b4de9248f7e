"""What drafting produces: a section's draft with its provenance and check, and a report's.

These objects are what the workspace saves, the exports write and report.json holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from assistant.check import CheckResult, check_text
from assistant.core.figures import Figure

EngineKind = Literal["model", "offline"]


class FigureUse(BaseModel):
    figure_id: str
    start: int
    end: int
    text: str


class PassageUse(BaseModel):
    passage_id: str
    source: str
    heading_path: str
    text: str


class Provenance(BaseModel):
    engine: EngineKind
    model: str | None = None
    prompt_version: str
    figures: list[FigureUse] = []
    passages: list[PassageUse] = []
    instruction: str | None = None
    repaired: bool = False
    title_source: Literal["spec", "model", "offline", "none"] = "spec"
    unverified: list[str] = []  # numbers still invented after the repair, marked 【待核实：…】
    error: str | None = None  # the model error that made this section fall back offline
    warnings: list[str] = []  # saved as written but worth a look, e.g. an answer over the length bound

    @property
    def fell_back(self) -> bool:
        """The model failed and the offline engine wrote this section (the offline engine
        itself never records an error)."""
        return self.engine == "offline" and self.error is not None


class SectionDraft(BaseModel):
    section_id: str
    title: str
    text: str
    level: int  # 0 intro/closing, 1 一、, 2 （一）, 3 1.
    label: str = ""  # the heading number: "一、", "（二）"
    part: str = "other"
    provenance: Provenance
    check: CheckResult
    # What the notes asked the drafter to do (这两个数还要和省里核对, 年底再定): kept out of the text,
    # listed for the writer. Older saved versions have none.
    todos: list[str] = []

    @property
    def heading(self) -> str:
        return f"{self.label}{self.title}" if self.level > 0 and self.title else ""


class Todo(BaseModel):
    """One thing the notes left for the writer to do, and the section it belongs to."""

    section_id: str
    text: str


class ReportDraft(BaseModel):
    title: str
    organisation: str
    year: int
    engine: str  # "model", "offline" or "mixed" (some sections fell back)
    sections: list[SectionDraft]
    report_check: CheckResult | None = None

    def to_markdown(self) -> str:
        """Plain text in document order: title, headings (一、 / （一） lines, no Markdown #), texts."""
        blocks = [self.title]
        for s in self.sections:
            if s.heading:
                blocks.append(s.heading)
            blocks += [p.strip() for p in s.text.split("\n") if p.strip()]
        return "\n\n".join(blocks) + "\n"

    def check(self, figures: list[Figure], *, terms: str | Path | None = None) -> CheckResult:
        """The report-level check (scope "report") of the whole text."""
        return check_text(self.to_markdown(), figures, scope="report", year=self.year, terms=terms)

    def section(self, section_id: str) -> SectionDraft:
        return next(s for s in self.sections if s.section_id == section_id)

    def to_json_dict(self) -> dict:
        return {
            "title": self.title,
            "organisation": self.organisation,
            "year": self.year,
            "engine": self.engine,
            "sections": [
                {**s.model_dump(exclude={"check"}), "heading": s.heading, "check": s.check.to_json_dict()}
                for s in self.sections
            ],
            "check": self.report_check.to_json_dict() if self.report_check else None,
            "todos": [t.model_dump() for t in self.todos],
        }

    @property
    def todos(self) -> list[Todo]:
        """Every section's to-dos, in document order."""
        return [Todo(section_id=s.section_id, text=t) for s in self.sections for t in s.todos]
