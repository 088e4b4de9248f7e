"""The check's result objects: what the drafting engine, the UI and `huibao check --json` read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

# grounded: a supplied figure (or a value computed from supplied figures) backs the number;
# invented: nothing does; misattributed: the value is another item's figure, not the one its
# clause names; unverified: a 【待核实：…】 mark; placeholder: 【待补充：…】, XX, ××.
Status = Literal["grounded", "invented", "misattributed", "unverified", "placeholder"]
FLAGGED: frozenset[str] = frozenset({"invented", "misattributed"})  # what a draft must not keep


class Derivation(BaseModel):
    """How a derived number follows from supplied figures."""

    kind: Literal["growth", "difference", "points", "multiple", "share", "sum"]
    figure_ids: list[str]
    formula: str  # for display: "(11−8)/8 = 37.5%"


class NumberMention(BaseModel):
    text: str  # the mention as written in the draft: "20余次"
    value: float | None  # the number it states, scale folded in (1.2万 -> 12000); None for placeholders
    unit: str  # base unit ("人次" for 1.2万人次); "" when the number has none
    start: int  # offsets into the checked text
    end: int
    status: Status
    figure_id: str | None = None
    low: float | None = None  # interval the mention stands for (style-rules.md §4 step 4)
    high: float | None = None
    item: str | None = None  # the item the mention's clause names (None: names none)
    attribution: Literal["item", "value"] = "value"  # grounded through the named item, or by value alone
    derivation: Derivation | None = None
    message: str | None = None  # why it is flagged, or where a grounded number comes from (Chinese)

    @property
    def flagged(self) -> bool:
        """Counts as an invented number: exit code, repair round, eval gate, 【待核实】 marking."""
        return self.status in FLAGGED

    def to_json_dict(self) -> dict:
        """The number object `huibao check --json` prints."""
        return self.model_dump(include=_JSON_NUMBER_FIELDS)


_JSON_NUMBER_FIELDS = {
    "text",
    "value",
    "unit",
    "start",
    "end",
    "status",
    "figure_id",
    "item",
    "attribution",
    "derivation",
    "message",
}


class StyleFinding(BaseModel):
    rule: str  # "S1", "L5", "P-两个维护", "N2"
    severity: Literal["error", "warning"]
    start: int
    end: int
    message: str
    # Text to put in place of text[start:end] when the fix is mechanical ("" = delete it);
    # for P- rules the canonical wording. None when a person has to rewrite.
    suggestion: str | None = None


class Coverage(BaseModel):
    used: list[str] = []  # figure ids grounded by at least one mention
    unused: list[str] = []  # supplied but never stated


class Summary(BaseModel):
    grounded: int = 0
    invented: int = 0
    misattributed: int = 0
    unverified: int = 0  # 【待核实：…】 marks
    placeholders: int = 0  # 【待补充：…】, XX, ×× (not 【待核实】)
    style_errors: int = 0
    style_warnings: int = 0


class CheckResult(BaseModel):
    numbers: list[NumberMention] = []
    style: list[StyleFinding] = []
    coverage: Coverage = Coverage()
    summary: Summary = Summary()

    @property
    def clean(self) -> bool:
        s = self.summary
        return (
            s.invented == 0
            and s.misattributed == 0
            and s.unverified == 0
            and s.placeholders == 0
            and s.style_errors == 0
        )

    def to_json_dict(self) -> dict:
        """Exactly the object `huibao check --json` prints."""
        return {
            "numbers": [m.to_json_dict() for m in self.numbers],
            "style": [f.model_dump() for f in self.style],
            "coverage": self.coverage.model_dump(),
            "summary": self.summary.model_dump(),
        }
