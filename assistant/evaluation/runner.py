"""Running the eval: draft every case of evals/cases/, score the drafts, apply the gate.

Each case is drafted with the offline engine or a model (through the real SDK path) and scored
on the final Markdown of the whole report (scoring.py); with a model, the numbers invented in
the model's FIRST answers are recorded too, since the repair round hides them in the final text.
Optionally (``judge=True``) a model's 1–5 rubric score is added (judge.py). The gate (gate.py,
evals/thresholds.yaml) turns the metrics (metrics.py) into pass/fail.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from assistant.check import check_numbers
from assistant.core.errors import HuibaoError
from assistant.core.figures import Figure, load_figures
from assistant.core.settings import Settings
from assistant.drafting.context import DraftContext
from assistant.drafting.draft import draft_report
from assistant.drafting.engines import make_engine
from assistant.drafting.prompts import prompt_version
from assistant.drafting.section_prompt import strip_wrapping
from assistant.drafting.spec import load_spec
from assistant.evaluation.cases import EvalCase, EvalError, discover_cases
from assistant.evaluation.gate import gate
from assistant.evaluation.judge import judge_report
from assistant.evaluation.metrics import Thresholds
from assistant.evaluation.report import Backend, EvalReport
from assistant.evaluation.results import CaseResult
from assistant.evaluation.scoring import score_draft
from assistant.kb.ingest import open_knowledge_base
from assistant.kb.retrieve import KnowledgeBase
from assistant.llm import ChatMessage, ChatModel, ToolReply, ToolSpec, make_model
from assistant.llm.embeddings import make_embedder


class _FirstAnswerRecorder:
    """Passes every call through to the model and notes, per section, the numbers the FIRST
    answer invented: the repair round hides them in the final text, yet how often a model
    invents is what a model eval is for. The section id comes from draft_report's on_start,
    which runs in the worker thread that then calls the model."""

    def __init__(self, model: ChatModel, figures: list[Figure], *, terms: Path | None = None) -> None:
        self._model, self._figures, self._terms = model, figures, terms
        self.name = getattr(model, "name", "model")
        self._local = threading.local()
        self._lock = threading.Lock()
        self.first_invented: dict[str, list[str]] = {}

    def start_section(self, section_id: str) -> None:
        self._local.section = section_id

    def stream(self, messages: list[ChatMessage]) -> Iterator[str]:
        parts: list[str] = []
        for delta in self._model.stream(messages):
            parts.append(delta)
            yield delta
        self._note("".join(parts))

    def complete(self, messages: list[ChatMessage]) -> str:
        return self._model.complete(messages)

    def complete_with_tools(
        self,
        messages: list[ChatMessage],
        tools: Sequence[ToolSpec | dict],
        *,
        on_delta: Callable[[str], None] | None = None,
    ) -> ToolReply:  # pragma: no cover - drafting does not call tools
        return self._model.complete_with_tools(messages, tools, on_delta=on_delta)

    def _note(self, answer: str) -> None:
        section = getattr(self._local, "section", None) or "?"
        mentions = check_numbers(strip_wrapping(answer), self._figures, terms=self._terms)
        invented = [m.text for m in mentions if m.flagged]  # misattributed counts as invented
        with self._lock:
            self.first_invented.setdefault(section, []).extend(invented)


def _resolve_model(settings: Settings, model: str | ChatModel | None) -> ChatModel:
    if model is not None and not isinstance(model, str):
        return model
    made = make_model(settings, model=model)
    if made is None:
        raise EvalError(
            "未配置模型接口，无法用模型评测。请设置 OPENAI_BASE_URL / OPENAI_API_KEY"
            "（或 HUIBAO_BASE_URL / HUIBAO_API_KEY），或改用 --offline。"
        )
    return made


def run_case(case: EvalCase, settings: Settings, kb: KnowledgeBase | None, model: ChatModel | None) -> CaseResult:
    """Draft one case (offline when `model` is None) and score the draft."""
    try:
        figures = load_figures(case.figures_path)
        spec = load_spec(case.spec_path, figures)
    except HuibaoError as err:
        return CaseResult(case_id=case.id, description=case.description, error=str(err))
    recorder = _FirstAnswerRecorder(model, figures, terms=settings.terms) if model is not None else None
    try:
        report = draft_report(
            DraftContext.create(spec, figures, kb, settings),
            make_engine(recorder),
            on_start=recorder.start_section if recorder is not None else None,
        )
    except HuibaoError as err:  # e.g. a prompt file that no longer renders: this case fails, the rest run
        return CaseResult(case_id=case.id, title=spec.title, description=case.description, error=str(err))
    return score_draft(
        case,
        report,
        figures,
        report.report_check or report.check(figures, terms=settings.terms),  # draft_report checks the whole text
        first_answers=recorder.first_invented if recorder is not None else None,
    )


def run_eval(
    cases_dir: str | Path,
    settings: Settings,
    *,
    backend: Backend,
    model: str | ChatModel | None = None,
    judge: bool = False,
    only: list[str] | None = None,
    kb: KnowledgeBase | None = None,
    thresholds: Thresholds | None = None,
    on_case: Callable[[CaseResult], None] | None = None,
) -> EvalReport:
    """Draft and score every case; the gate's failures are in the returned report.

    backend "offline" drafts with the offline engine; "model" with `model` (a ChatModel, or a
    model name / None for the configured one via make_model). judge=True additionally asks a
    model (the drafting model, or the configured one for an offline run) for a rubric score.
    """
    if backend not in ("offline", "model"):
        raise EvalError(f"未知的评测方式“{backend}”（可选：offline、model）。")
    cases = discover_cases(cases_dir, only)
    drafting = _resolve_model(settings, model) if backend == "model" else None
    judge_model = None
    if judge:
        judge_model = drafting or _resolve_model(settings, model)
    if kb is None:
        # The sample knowledge is ingested into an empty index so a fresh checkout (CI)
        # evaluates with the same passages as a developer's machine.
        kb = open_knowledge_base(settings, make_embedder=make_embedder, ingest_if_empty=True)
    report = EvalReport(
        backend=backend,
        model=getattr(drafting, "name", None),
        judge=judge,
        started_at=datetime.now().isoformat(timespec="seconds"),
        prompt_version=prompt_version(),
        cases_dir=str(cases_dir),
        thresholds=thresholds or Thresholds(),
    )
    for case in cases:
        result = run_case(case, settings, kb, drafting)
        if judge_model is not None and result.error is None:
            result.judge = judge_report(judge_model, result.draft)
        report.cases.append(result)
        if on_case is not None:
            on_case(result)
    report.failures = gate(report.cases, report.thresholds, cases)
    return report
