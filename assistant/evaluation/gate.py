"""The gate: every metric of METRICS on every case (and the suite metrics on all of them)
against the thresholds, as failures with Chinese messages naming the case and the metric."""

from __future__ import annotations

from pydantic import BaseModel

from assistant.evaluation.cases import EvalCase
from assistant.evaluation.metrics import METRICS, Metric, MetricValue, SuiteMetric, Thresholds
from assistant.evaluation.results import CaseResult

CASE_ERROR = "error"  # the failure of a case that could not be loaded or drafted
CASE_ERROR_LABEL = "案例运行出错"


class GateFailure(BaseModel):
    case_id: str | None  # None: a suite-wide metric
    metric: str
    value: float
    limit: float
    message: str


def _failure(case_id: str | None, metric: str, label: str, measured: MetricValue) -> GateFailure:
    who = f"案例 {case_id}" if case_id else "全部案例"
    return GateFailure(
        case_id=case_id,
        metric=metric,
        value=round(measured.value, 4),
        limit=measured.threshold if measured.threshold is not None else 0,
        message=f"{who}：{label}{measured.reason}",
    )


def _case_limits(base: Thresholds, case: EvalCase | None) -> Thresholds:
    """The thresholds with the case's own overrides (case.yaml expectations.thresholds)."""
    if case is None or not case.expectations.thresholds:
        return base
    return base.model_copy(update=case.expectations.thresholds)


def gate(results: list[CaseResult], thresholds: Thresholds, cases: list[EvalCase] | None = None) -> list[GateFailure]:
    """Every threshold a case (or the suite) misses, with a Chinese message naming both."""
    by_id = {c.id: c for c in cases or []}
    case_metrics: list[Metric] = [m for m in METRICS if not isinstance(m, SuiteMetric)]
    suite_metrics = [m for m in METRICS if isinstance(m, SuiteMetric)]
    out: list[GateFailure] = []
    for r in results:
        if r.error is not None:
            out.append(_failure(r.case_id, CASE_ERROR, CASE_ERROR_LABEL, MetricValue(1, 0, False, f"——{r.error}")))
            continue
        limits = _case_limits(thresholds, by_id.get(r.case_id))
        for metric in case_metrics:
            measured = metric.measure(r, limits)
            if measured is not None and not measured.passed:
                out.append(_failure(r.case_id, metric.name, metric.label, measured))
    ran = [r for r in results if r.error is None]
    for suite_metric in suite_metrics:
        measured = suite_metric.measure_suite(ran, thresholds)
        if measured is not None and not measured.passed:
            out.append(_failure(None, suite_metric.name, suite_metric.label, measured))
    return out
