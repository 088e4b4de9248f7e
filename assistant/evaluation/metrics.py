"""The eval's metrics: one small class per thing the gate measures in a drafted case.

A metric reads a scored case (`CaseResult`) and says how it did:
``measure(result, limits) -> MetricValue(value, threshold, passed, reason)``. The gate (gate.py),
the thresholds file (`Thresholds`), the JSON and the Markdown report (report.py) all iterate
METRICS, so a new metric is one class here and its entry in METRICS, plus, when its limit is
configurable, one line in evals/thresholds.yaml::

    class DraftLength(Metric):
        name = "min_draft_chars"  # the gate's id; the JSON key of its values
        label = "正文字数"
        direction = "min"  # the value may not fall below the threshold
        threshold = "min_draft_chars"  # its key in evals/thresholds.yaml
        default = 2000
        unit = "字"

        def value(self, result):
            return len(result.draft)

The base class gives such a metric a row in the report's summary table, a column per case, its
values in the JSON and a gate message ("案例 x：正文字数 1500 字，下限 2000"). The built-in metrics
below override those hooks only to keep the report's established layout.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, create_model

from assistant.evaluation.results import CaseResult

Direction = Literal["max", "min"]
Shown = Literal["always", "model", "judge"]  # when the report shows a metric's columns


@dataclass(frozen=True)
class MetricValue:
    """One metric measured on one case (or on the suite)."""

    value: float
    threshold: float | None  # None: reported, not gated
    passed: bool
    reason: str = ""  # why it failed: the gate's message goes on with it after the metric's label


def _number(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


class Metric:
    """A per-case metric. A subclass sets the class attributes and `value`; everything else has
    a default that suits a count or a score compared with one threshold."""

    name: ClassVar[str]  # the gate's id (GateFailure.metric)
    label: ClassVar[str]  # Chinese, in the gate's messages and the report
    direction: ClassVar[Direction] = "max"  # max: the value may not exceed the threshold; min: not fall below
    threshold: ClassVar[str | None] = None  # key in evals/thresholds.yaml; None: a fixed limit (`default`)
    threshold_type: ClassVar[Any] = int  # what the thresholds file accepts for it
    default: ClassVar[float | None] = None  # the limit unless the file sets one; None: reported, not gated
    unit: ClassVar[str] = ""  # of the value in messages: 个, 处, 节
    percent: ClassVar[bool] = False  # value and limit are shares, shown as percentages
    shown: ClassVar[Shown] = "always"  # its case columns: always, in model runs, with --judge

    # ---------------------------------------------------------------- the gate

    def value(self, result: CaseResult) -> float | None:
        """The case's value; None when the metric does not apply to the case."""
        raise NotImplementedError

    def limit(self, result: CaseResult, limits: Thresholds) -> float | None:
        return self.configured_limit(limits)

    def configured_limit(self, limits: Thresholds) -> float | None:
        return limits.get(self.threshold, self.default) if self.threshold else self.default

    def evidence(self, result: CaseResult) -> str | None:
        """What makes up a failing value, shown in brackets after it (the invented numbers...)."""
        return None

    def measure(self, result: CaseResult, limits: Thresholds) -> MetricValue | None:
        value = self.value(result)
        if value is None:
            return None
        return self.verdict(value, self.limit(result, limits), self.evidence(result))

    def verdict(self, value: float, limit: float | None, evidence: str | None) -> MetricValue:
        if limit is None or (value <= limit if self.direction == "max" else value >= limit):
            return MetricValue(value, limit, passed=True)
        return MetricValue(value, limit, passed=False, reason=self.reason(value, limit, evidence))

    def reason(self, value: float, limit: float, evidence: str | None) -> str:
        unit = f" {self.unit}" if self.unit else ""
        bound = "上限" if self.direction == "max" else "下限"
        why = "" if evidence is None else f"（{evidence}）"
        return f" {self.format_value(value)}{unit}，{bound} {self.format_value(limit)}{why}"

    def format_value(self, x: float) -> str:
        return f"{x:.0%}" if self.percent else _number(x)

    # ---------------------------------------------------------------- the report (report.py)

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        """Its entries in the JSON "overall", over the cases that ran: the total of a "max"
        metric (all invented numbers), the lowest value of a "min" one (the worst case)."""
        values = [v for r in results if (v := self.value(r)) is not None]
        return {self.name: sum(values) if self.direction == "max" else min(values, default=None)}

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        """Its rows in the Markdown summary table: (label, value, limit)."""
        value = overall.get(self.name)
        shown = "—" if value is None else self.format_value(value)
        return [(self.label, shown, self.limit_text(self.configured_limit(limits)))]

    def limit_text(self, limit: float | None) -> str:
        if limit is None:
            return "不设门槛"
        return f"每案例 {'≤' if self.direction == 'max' else '≥'} {self.format_value(limit)}"

    def columns(self) -> list[str]:
        """Its column headers in the table of cases."""
        return [self.label]

    def cells(self, result: CaseResult) -> list[str]:
        value = self.value(result)
        return ["—" if value is None else self.format_value(value)]

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        """What it adds to the case's entry in the JSON (beside the CaseResult's own fields)."""
        return {self.name: self.value(result)}


class SuiteMetric(Metric):
    """A metric of the whole suite (the cases that ran), gated once rather than per case."""

    def value(self, result: CaseResult) -> float | None:
        return None  # nothing per case

    def value_over(self, results: list[CaseResult]) -> float | None:
        raise NotImplementedError

    def evidence_over(self, results: list[CaseResult]) -> str | None:
        return None

    def measure_suite(self, results: list[CaseResult], limits: Thresholds) -> MetricValue | None:
        value = self.value_over(results)
        if value is None:
            return None
        return self.verdict(value, self.configured_limit(limits), self.evidence_over(results))

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        return {self.name: self.value_over(results)}

    def limit_text(self, limit: float | None) -> str:
        if limit is None:
            return "不设门槛"
        return f"{'≤' if self.direction == 'max' else '≥'} {self.format_value(limit)}"

    def columns(self) -> list[str]:
        return []

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {}


# ---------------------------------------------------------------- the metrics the gate uses


class InventedNumbers(Metric):
    """Numbers no supplied figure supports, or another item's figure (misattributed), unmarked
    or marked 【待核实：…】 after a failed repair: a marked number is safe to read but still not a
    true number."""

    name = "invented_numbers"
    label = "编造数字（含错配、标注待核实的）"
    threshold = "invented_numbers"
    default = 0
    unit = "个"

    def value(self, result: CaseResult) -> float | None:
        return result.invented_total

    def evidence(self, result: CaseResult) -> str | None:
        return "、".join(f.text for f in result.findings if f.kind in ("invented", "misattributed", "unverified"))

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        return {
            "invented": sum(r.invented for r in results),
            "misattributed": sum(r.misattributed for r in results),
            "unverified": sum(r.unverified for r in results),
        }

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        limit = self.configured_limit(limits)
        return [
            ("编造数字（未标注）", str(overall["invented"]), f"{self.limit_text(limit)}（含错配、待核实）"),
            ("错配数字（另一事项的数据，未标注）", str(overall["misattributed"]), "同上"),
            ("修正后仍编造或错配、标注待核实", str(overall["unverified"]), "同上"),
        ]

    def columns(self) -> list[str]:
        return ["编造", "错配", "待核实"]

    def cells(self, result: CaseResult) -> list[str]:
        return [str(result.invented), str(result.misattributed), str(result.unverified)]

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {"invented_total": result.invented_total}


class FirstAnswerInvented(Metric):
    """Model runs: numbers invented in the model's FIRST answers. The repair round hides them in
    the final text, yet how often a model invents is what a model eval is for. Not gated."""

    name = "first_answer_invented"
    label = "模型初稿编造数字"
    shown = "model"

    def value(self, result: CaseResult) -> float | None:
        return result.first_answer_invented

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        first = [r.first_answer_invented for r in results if r.first_answer_invented is not None]
        return {self.name: sum(first) if first else None}

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        if overall[self.name] is None:  # not a model run
            return []
        return [(self.label, str(overall[self.name]), "不设门槛（修正轮会处理）")]

    def columns(self) -> list[str]:
        return ["初稿编造"]

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {}  # a CaseResult field already


class RepairedSections(Metric):
    """Model runs: the sections whose first answer went through the repair round. Not gated."""

    name = "repaired_sections"
    label = "进入修正轮的章节"
    shown = "model"

    def value(self, result: CaseResult) -> float | None:
        return len(result.repaired_sections)

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        if overall["first_answer_invented"] is None:  # not a model run
            return []
        return [(self.label, str(overall[self.name]), "不设门槛")]

    def columns(self) -> list[str]:
        return ["修正章节"]

    def cells(self, result: CaseResult) -> list[str]:
        return ["、".join(result.repaired_sections) or "—"]

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {}  # the CaseResult lists them


class StyleErrors(Metric):
    """公文 style errors of check_text(scope="report") on the whole report."""

    name = "style_errors_per_case"
    label = "规范错误"
    threshold = "style_errors_per_case"
    default = 0
    unit = "处"

    def value(self, result: CaseResult) -> float | None:
        return result.style_errors

    def evidence(self, result: CaseResult) -> str | None:
        rules = sorted({f.rule for f in result.findings if f.kind == "style_error" and f.rule})
        return f"规则：{'、'.join(rules)}"

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        return {"style_errors": sum(r.style_errors for r in results)}

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        return [(self.label, str(overall["style_errors"]), self.limit_text(self.configured_limit(limits)))]

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {}  # a CaseResult field already


class StyleWarnings(Metric):
    """Style warnings (long sentences, loose 对仗...): reported; gated only when a limit is set."""

    name = "style_warnings_per_case"
    label = "规范提示"
    threshold = "style_warnings_per_case"
    threshold_type = int | None
    unit = "处"

    def value(self, result: CaseResult) -> float | None:
        return result.style_warnings

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        return {"style_warnings": sum(r.style_warnings for r in results)}

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        return [(self.label, str(overall["style_warnings"]), self.limit_text(self.configured_limit(limits)))]

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {}  # a CaseResult field already


class Structure(Metric):
    """The parts of a 年度工作汇报 in order (scoring.check_structure): passes or not, with reasons."""

    name = "structure"
    label = "结构"
    direction = "min"
    default = 1  # passed

    def value(self, result: CaseResult) -> float | None:
        return 1 if result.structure.passed else 0

    def reason(self, value: float, limit: float, evidence: str | None) -> str:
        return f"不合规：{evidence}"

    def evidence(self, result: CaseResult) -> str | None:
        return "；".join(result.structure.reasons)

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        return {}  # the suite's rate is StructurePassRate

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        return []

    def cells(self, result: CaseResult) -> list[str]:
        return ["合规" if result.structure.passed else "不合规"]

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {}  # the CaseResult's structure


class StructurePassRate(SuiteMetric):
    """The share of cases whose structure passes."""

    name = "structure_pass_rate"
    label = "结构合规率"
    direction = "min"
    threshold = "structure_pass_rate"
    threshold_type = float
    default = 1.0
    percent = True

    def value_over(self, results: list[CaseResult]) -> float | None:
        return sum(r.structure.passed for r in results) / len(results) if results else None

    def evidence_over(self, results: list[CaseResult]) -> str | None:
        return "不合规：" + "、".join(r.case_id for r in results if not r.structure.passed)

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        rate = self.value_over(results)
        return {self.name: 0.0 if rate is None else round(rate, 4)}


class FigureCoverage(Metric):
    """The share of the case's supplied figures that the text states."""

    name = "min_figure_coverage"
    label = "数据覆盖率"
    direction = "min"
    threshold = "min_figure_coverage"
    threshold_type = float
    default = 0.9
    percent = True

    def value(self, result: CaseResult) -> float | None:
        return result.coverage

    def evidence(self, result: CaseResult) -> str | None:
        return f"未用到：{'、'.join(result.unused_figures)}"

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        used = sum(r.figures_used for r in results)
        total = sum(r.figures_total for r in results)
        return {
            "figure_coverage": round(used / total, 4) if total else 1.0,
            "figures_used": used,
            "figures_total": total,
        }

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        shown = f"{overall['figure_coverage']:.1%}（{overall['figures_used']}/{overall['figures_total']}）"
        return [(self.label, shown, self.limit_text(self.configured_limit(limits)))]

    def columns(self) -> list[str]:
        return ["数据覆盖"]

    def cells(self, result: CaseResult) -> list[str]:
        return [f"{result.coverage:.0%}（{result.figures_used}/{result.figures_total}）"]

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {"coverage": round(result.coverage, 4)}


class UnexpectedPlaceholders(Metric):
    """【待补充：…】/XX in a case whose figures are complete: the engine failed to use a figure."""

    name = "placeholders_unexpected"
    label = "意外的待补充项"
    threshold = "placeholders_unexpected"
    default = 0
    unit = "个"

    def value(self, result: CaseResult) -> float | None:
        return result.unexpected_placeholders

    def evidence(self, result: CaseResult) -> str | None:
        return "本案例数据齐全，不应有待补充项"

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        return [("待补充项（意外的）", str(overall[self.name]), self.limit_text(self.configured_limit(limits)))]

    def columns(self) -> list[str]:
        return ["待补充"]  # all placeholders, the expected ones marked

    def cells(self, result: CaseResult) -> list[str]:
        return [f"{result.placeholders}" + ("（预期）" if result.expect_placeholders else "")]

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {"unexpected_placeholders": result.unexpected_placeholders}


class ExpectedPlaceholders(Metric):
    """A case with expect_placeholders (figures missing on purpose) must show at least its
    min_placeholders (case.yaml) 【待补充：…】 instead of numbers."""

    name = "placeholders_expected"
    label = "应有的待补充项"
    direction = "min"
    unit = "个"

    def value(self, result: CaseResult) -> float | None:
        return result.placeholders if result.expect_placeholders else None

    def limit(self, result: CaseResult, limits: Thresholds) -> float | None:
        return result.min_placeholders

    def reason(self, value: float, limit: float, evidence: str | None) -> str:
        return f" {self.format_value(value)} 个，至少应有 {self.format_value(limit)} 个（缺数据处应写【待补充：…】）"

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        return {self.name: sum(r.placeholders for r in results if r.expect_placeholders)}

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        return [("待补充项（预期的）", str(overall[self.name]), "缺数据案例至少若干个")]

    def columns(self) -> list[str]:
        return []  # in UnexpectedPlaceholders' column

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {}


class FallbackSections(Metric):
    """Model runs: sections drafted offline after a model error. A model eval with fallbacks
    measures the offline engine, not the model."""

    name = "model_fallback_sections"
    label = "模型出错改用离线起草的章节"
    threshold = "model_fallback_sections"
    default = 0
    unit = "节"

    def value(self, result: CaseResult) -> float | None:
        return len(result.fallback_sections)

    def evidence(self, result: CaseResult) -> str | None:
        return "、".join(result.fallback_sections)

    def reason(self, value: float, limit: float, evidence: str | None) -> str:
        return f" {self.format_value(value)} 节（{evidence}），上限 {self.format_value(limit)}"

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        return {"fallback_sections": sum(len(r.fallback_sections) for r in results)}

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        if overall["first_answer_invented"] is None:  # not a model run
            return []
        limit = self.limit_text(self.configured_limit(limits))
        return [("模型出错改用离线的章节", str(overall["fallback_sections"]), limit)]

    def columns(self) -> list[str]:
        return []

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {}  # the CaseResult lists them


class ForbiddenPhrases(Metric):
    """case.yaml's forbidden_phrases: any one found fails the case."""

    name = "forbidden_phrases"
    label = "不应出现的表述"
    default = 0

    def value(self, result: CaseResult) -> float | None:
        return len(result.forbidden_found)

    def reason(self, value: float, limit: float, evidence: str | None) -> str:
        return f"：{evidence}"

    def evidence(self, result: CaseResult) -> str | None:
        return "、".join(result.forbidden_found)

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        return {}

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        return []

    def columns(self) -> list[str]:
        return []

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {}  # the CaseResult lists them


class RequiredPhrases(ForbiddenPhrases):
    """case.yaml's required_phrases: any one missing fails the case."""

    name = "required_phrases"
    label = "应出现的表述"

    def value(self, result: CaseResult) -> float | None:
        return len(result.required_missing)

    def reason(self, value: float, limit: float, evidence: str | None) -> str:
        return f"缺少：{evidence}"

    def evidence(self, result: CaseResult) -> str | None:
        return "、".join(result.required_missing)


class JudgeAverage(Metric):
    """--judge: the model's rubric average (1–5). Shown beside the rules; gated only when
    judge_min_average is set (a model grading prose is not reproducible enough to block CI)."""

    name = "judge_min_average"
    label = "模型评分均分"
    direction = "min"
    threshold = "judge_min_average"
    threshold_type = float | None
    shown = "judge"

    def value(self, result: CaseResult) -> float | None:
        return result.judge.average if result.judge is not None else None

    def summary(self, results: list[CaseResult]) -> dict[str, Any]:
        judged = [v for r in results if (v := self.value(r)) is not None]
        return {"judge_average": round(sum(judged) / len(judged), 2) if judged else None}

    def summary_rows(self, overall: dict[str, Any], limits: Thresholds) -> list[tuple[str, str, str]]:
        if overall["judge_average"] is None:
            return []
        limit = self.configured_limit(limits)
        shown = "不设门槛" if limit is None else f"≥ {self.format_value(limit)}"
        return [("模型评分均分（1～5）", f"{overall['judge_average']:g}", shown)]

    def columns(self) -> list[str]:
        return ["模型评分"]

    def cells(self, result: CaseResult) -> list[str]:
        value = self.value(result)
        return ["—" if value is None else str(value)]

    def case_json(self, result: CaseResult) -> dict[str, Any]:
        return {"judge_average": self.value(result)}


# The registry, in the gate's order: a case's failures are listed in this order, and the
# thresholds appear in it in the JSON. The gate, the thresholds, the JSON and the report read
# it when they run.
METRICS: list[Metric] = [
    InventedNumbers(),
    FirstAnswerInvented(),
    RepairedSections(),
    StyleErrors(),
    StyleWarnings(),
    Structure(),
    StructurePassRate(),
    FigureCoverage(),
    UnexpectedPlaceholders(),
    ExpectedPlaceholders(),
    FallbackSections(),
    ForbiddenPhrases(),
    RequiredPhrases(),
    JudgeAverage(),
]


# ---------------------------------------------------------------- the thresholds


def threshold_keys() -> list[str]:
    """The keys evals/thresholds.yaml (and a case's expectations.thresholds) may set."""
    return [m.threshold for m in METRICS if m.threshold]


@functools.cache
def _schema(metrics: tuple[Metric, ...]) -> type[BaseModel]:
    """A pydantic model of the registered metrics' thresholds: types, defaults, no other keys."""
    fields: dict[str, Any] = {m.threshold: (m.threshold_type, m.default) for m in metrics if m.threshold}
    return create_model("Thresholds", __config__=ConfigDict(extra="forbid"), **fields)


class Thresholds(BaseModel):
    """The gate's limits by the metrics' threshold keys (evals/thresholds.yaml): a value set
    there, else the metric's default. The keys come from METRICS, so a new metric's limit needs
    no field here; `limits.get("invented_numbers")` (or `limits.invented_numbers`) reads one."""

    model_config = ConfigDict(extra="allow")

    def __init__(self, **limits: Any) -> None:
        # Unknown keys and wrong types raise pydantic's ValidationError, naming the key.
        super().__init__(**_schema(tuple(METRICS))(**limits).model_dump())

    def get(self, key: str, default: float | None = None) -> float | None:
        return (self.model_extra or {}).get(key, default)
