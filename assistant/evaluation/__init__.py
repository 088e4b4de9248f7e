"""The eval stage (`huibao eval`, evals/replay.py): draft the cases of evals/cases/, score the
drafts and gate them on evals/thresholds.yaml.

Read in this order:

- runner.py: `run_eval` drafts each case (offline or with a model) and calls the rest;
- cases.py: the cases (spec, figures, expectations) and the thresholds file;
- scoring.py: `score_draft` turns a draft and its check into a `CaseResult` (results.py);
- judge.py: the optional model judge (`--judge`), never a substitute for the rules;
- metrics.py: one class per metric (invented numbers, style errors, structure, coverage...) and
  the registry METRICS; a new metric is one class there;
- gate.py: every metric against the thresholds, as failures with Chinese messages;
- report.py: `EvalReport` and its Markdown and JSON.
"""

from assistant.evaluation.cases import (
    CaseExpectations,
    EvalCase,
    EvalError,
    discover_cases,
    load_case,
    load_thresholds,
)
from assistant.evaluation.gate import GateFailure, gate
from assistant.evaluation.judge import judge_report, parse_judge
from assistant.evaluation.metrics import METRICS, Metric, MetricValue, SuiteMetric, Thresholds
from assistant.evaluation.report import Backend, EvalReport, render_markdown, write_outputs
from assistant.evaluation.results import CaseResult, Finding, JudgeScore, StructureResult
from assistant.evaluation.runner import run_case, run_eval
from assistant.evaluation.scoring import check_structure, score_draft

__all__ = [
    "METRICS",
    "Backend",
    "CaseExpectations",
    "CaseResult",
    "EvalCase",
    "EvalError",
    "EvalReport",
    "Finding",
    "GateFailure",
    "JudgeScore",
    "Metric",
    "MetricValue",
    "StructureResult",
    "SuiteMetric",
    "Thresholds",
    "check_structure",
    "discover_cases",
    "gate",
    "judge_report",
    "load_case",
    "load_thresholds",
    "parse_judge",
    "render_markdown",
    "run_case",
    "run_eval",
    "score_draft",
    "write_outputs",
]
