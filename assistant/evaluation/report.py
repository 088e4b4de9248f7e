"""The eval report: the scored cases and the gate's failures, written as Markdown and JSON.

The summary table, the table of cases and the JSON's figures come from the metrics
(metrics.METRICS): each metric contributes its rows, columns and values, so a new metric shows
up here without an edit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.evaluation.gate import GateFailure
from assistant.evaluation.metrics import METRICS, Metric, Shown, Thresholds
from assistant.evaluation.results import CaseResult, Finding

Backend = Literal["offline", "model"]

# The summary reads in this order: what the text invented, what it left out, then style and
# structure (the gate's order is METRICS'). Metrics not named here follow in METRICS' order.
REPORT_ORDER = (
    "invented_numbers",
    "first_answer_invented",
    "repaired_sections",
    "model_fallback_sections",
    "placeholders_expected",
    "placeholders_unexpected",
    "min_figure_coverage",
    "style_errors_per_case",
    "style_warnings_per_case",
    "structure",
    "structure_pass_rate",
    "judge_min_average",
)

# The details list a case's findings by kind, in this order.
FINDING_GROUPS: list[tuple[str, str]] = [
    ("invented", "编造的数字"),
    ("misattributed", "错配的数字（另一事项的数据）"),
    ("unverified", "标注待核实的数字"),
    ("first_answer_invented", "模型初稿中编造的数字"),
    ("placeholder", "待补充项"),
    ("style_error", "规范错误"),
    ("style_warning", "规范提示（不计入门槛）"),
    ("forbidden", "不应出现的表述"),
    ("missing_phrase", "应出现而未出现的表述"),
]


def _in_report_order() -> list[Metric]:
    rank = {name: i for i, name in enumerate(REPORT_ORDER)}
    return sorted(METRICS, key=lambda m: rank.get(m.name, len(rank)))  # stable: the rest keep METRICS' order


class EvalReport(BaseModel):
    backend: Backend
    model: str | None = None
    judge: bool = False
    started_at: str = ""
    prompt_version: str = ""
    cases_dir: str = ""
    thresholds: Thresholds = Field(default_factory=Thresholds)
    cases: list[CaseResult] = []
    failures: list[GateFailure] = []

    @property
    def passed(self) -> bool:
        return not self.failures

    def case_failures(self, case_id: str) -> list[GateFailure]:
        return [f for f in self.failures if f.case_id == case_id]

    def overall(self) -> dict[str, Any]:
        """The suite's figures: case counts, then each metric's summary over the cases that ran."""
        ran = [c for c in self.cases if c.error is None]
        out: dict[str, Any] = {
            "cases": len(self.cases),
            "cases_passed": sum(1 for c in self.cases if not self.case_failures(c.case_id)),
            "errors": len(self.cases) - len(ran),
        }
        for metric in _in_report_order():
            out.update(metric.summary(ran))
        return out

    def to_json_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"cases"})
        data["passed"] = self.passed
        data["overall"] = self.overall()
        data["cases"] = []
        for c in self.cases:
            item = c.model_dump(mode="json")
            for metric in METRICS:
                item.update(metric.case_json(c))
            item["passed"] = not self.case_failures(c.case_id)
            data["cases"].append(item)
        return data

    def to_markdown(self) -> str:
        return render_markdown(self)


# ---------------------------------------------------------------- Markdown


def _md_cell(text: str) -> str:
    return str(text).replace("|", "｜").replace("\n", " ")


def _code(text: str) -> str:
    return "`" + str(text).replace("`", "ˋ") + "`"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render_markdown(report: EvalReport) -> str:
    ov = report.overall()
    engine = "离线引擎" if report.backend == "offline" else f"模型 {report.model}"
    lines = [f"# 评测报告：{engine}", ""]
    lines.append(
        f"- 结论：**{'通过' if report.passed else '未通过'}**（{ov['cases_passed']}/{ov['cases']} 个案例达到全部门槛）"
    )
    lines.append(f"- 时间：{report.started_at}；提示词版本：{report.prompt_version}；案例目录：{report.cases_dir}")
    if report.judge:
        lines.append(
            "- 模型评分（--judge）只作参考，与规则核对并列，不替代规则核对，也不计入门槛（除非设置了 judge_min_average）。"
        )
    lines += ["", "## 总体", "", "| 指标 | 数值 | 门槛 |", "|---|---|---|"]
    for metric in _in_report_order():
        lines += [_row(list(r)) for r in metric.summary_rows(ov, report.thresholds)]
    lines += ["", "## 各案例", ""]
    lines += _case_table(report)
    if report.failures:
        lines += ["", "## 未达门槛", ""]
        lines += [f"- {_md_cell(f.message)}" for f in report.failures]
    lines += ["", "## 案例详情"]
    for c in report.cases:
        lines += _case_details(c)
    return "\n".join(lines) + "\n"


def _case_table(report: EvalReport) -> list[str]:
    """One row per case: a column or two per metric, those of model runs and --judge last."""
    shown: dict[Shown, bool] = {"always": True, "model": report.backend == "model", "judge": report.judge}
    metrics = [m for group in ("always", "model", "judge") for m in _in_report_order() if m.shown == group]
    metrics = [m for m in metrics if shown[m.shown] and m.columns()]
    headers = [h for m in metrics for h in m.columns()]
    lines = [_row(["案例", "引擎", *headers, "结果"]), "|" + "---|" * (len(headers) + 3)]
    for c in report.cases:
        if c.error:
            lines.append(_row([c.case_id, "—", *["—"] * len(headers), "❌ 出错"]))
            continue
        verdict = "✅ 通过" if not report.case_failures(c.case_id) else "❌ 未通过"
        lines.append(_row([c.case_id, c.engine, *[cell for m in metrics for cell in m.cells(c)], verdict]))
    return lines


def _case_details(c: CaseResult) -> list[str]:
    lines = ["", f"### {c.case_id}：{c.title or '（未起草）'}", ""]
    if c.description:
        lines += [c.description, ""]
    if c.error:
        return lines + [f"运行出错：{c.error}"]
    lines.append(f"- 结构：{'合规' if c.structure.passed else '不合规'}")
    lines += [f"  - {_md_cell(r)}" for r in c.structure.reasons]
    if c.unused_figures:
        lines.append(f"- 未用到的数据：{'、'.join(c.unused_figures)}")
    if c.repaired_sections:
        lines.append(f"- 进入修正轮的章节：{'、'.join(c.repaired_sections)}")
    if c.fallback_sections:
        lines.append(f"- 模型出错、改用离线引擎的章节：{'、'.join(c.fallback_sections)}")
    if c.judge is not None:
        if c.judge.error:
            lines.append(f"- 模型评分：未得到（{_md_cell(c.judge.error)}）")
        else:
            detail = "，".join(f"{k} {v:g}" for k, v in c.judge.scores.items())
            lines.append(f"- 模型评分（参考）：{detail}；均分 {c.judge.average:g}。{_md_cell(c.judge.reason)}")
    for kind, label in FINDING_GROUPS:
        items = [f for f in c.findings if f.kind == kind]
        if items:
            lines.append(f"- {label}（{len(items)}）：")
            lines += [f"  - {_finding_line(f)}" for f in items]
    return lines


def _finding_line(f: Finding) -> str:
    where = f"章节 {f.section_id}" if f.section_id else "全文"
    rule = f"{f.rule} " if f.rule else ""
    ctx = f" {_code(f.context)}" if f.context else ""
    said = "" if f.text and f"“{f.text.strip()}”" in f.message else f"：“{_md_cell(f.text)}”"
    return f"{where}：{rule}{_md_cell(f.message)}{said}{ctx}"


def write_outputs(report: EvalReport, markdown_path: str | Path | None, json_path: str | Path | None) -> None:
    for path, text in (
        (markdown_path, report.to_markdown() if markdown_path else ""),
        (json_path, json.dumps(report.to_json_dict(), ensure_ascii=False, indent=2) if json_path else ""),
    ):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
