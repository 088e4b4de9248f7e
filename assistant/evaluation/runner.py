"""The eval suite that gates CI: draft every case of evals/cases/ and score the drafts.

A case is a folder with ``spec.yaml``, ``figures.csv``/``figures.yaml``/``figures.xlsx`` and
``case.yaml`` (description and expectations). Each case is drafted with the offline engine or a
model (through the real SDK path) and scored on the final Markdown of the whole report:

- invented numbers (numbers no supplied figure supports), plus numbers the model invented that
  survived the repair round and were marked 【待核实：…】 ("unverified"); both count against the
  ``invented_numbers`` threshold: a marked number is safe to read but still not a true number;
- placeholders (【待补充：…】, XX): expected only where ``case.yaml`` says so;
- figure coverage (supplied figures the text states / all supplied figures);
- style errors and warnings of ``check_text(scope="report")``;
- structure: the style checker's S1/S2 findings (heading numbering, 导语 ending 现将…汇报如下：,
  一级标题 做法/成效 → 问题 → 打算/展望, a closing sentence) at any severity, and no Markdown;
- case expectations: phrases that must (not) appear;
- with a model: numbers invented in the model's FIRST answers (a property of the model that the
  repair round hides in the final text) and the sections repaired or drafted offline after a
  model error;
- optionally (``judge=True``) a model's 1–5 rubric score, shown beside the rules, never gating.

The gate (``evals/thresholds.yaml``) turns the scores into pass/fail with Chinese messages
naming the case and the metric.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from assistant.core.errors import HuibaoError, InputError
from assistant.gongwen import is_unverified

if TYPE_CHECKING:
    from assistant.check import CheckResult, NumberMention, StyleFinding
    from assistant.core.figures import Figure
    from assistant.core.settings import Settings
    from assistant.drafting.draft import ReportDraft
    from assistant.kb.retrieve import KnowledgeBase
    from assistant.llm import ChatMessage, ChatModel

Backend = Literal["offline", "model"]

FIGURE_FILES = ("figures.csv", "figures.yaml", "figures.yml", "figures.xlsx")
JUDGE_CRITERIA = ("结构", "语体", "对仗", "表述准确")
_CONTEXT_CHARS = 14


class EvalError(HuibaoError):
    """The eval could not run (no model configured for a model run, no cases)."""


# ---------------------------------------------------------------- cases and thresholds


class CaseExpectations(BaseModel):
    model_config = {"extra": "forbid"}

    expect_placeholders: bool = False
    min_placeholders: int = 1  # only when expect_placeholders
    forbidden_phrases: list[str] = []  # must not appear anywhere in the draft
    required_phrases: list[str] = []  # must appear somewhere in the draft
    thresholds: dict[str, float] = {}  # per-case overrides of evals/thresholds.yaml


class EvalCase(BaseModel):
    id: str
    path: Path
    spec_path: Path
    figures_path: Path
    description: str = ""
    expectations: CaseExpectations = CaseExpectations()


class Thresholds(BaseModel):
    """The gate. Per-case maxima/minima, and one suite-wide rate. See evals/thresholds.yaml."""

    model_config = {"extra": "forbid"}

    invented_numbers: int = 0  # max per case: invented + marked 【待核实】
    style_errors_per_case: int = 0
    style_warnings_per_case: int | None = None  # None: reported, not gated
    structure_pass_rate: float = 1.0  # min over the suite
    min_figure_coverage: float = 0.9  # min per case
    placeholders_unexpected: int = 0  # max per case without expect_placeholders
    model_fallback_sections: int = 0  # max per case: sections drafted offline after a model error
    judge_min_average: float | None = None  # None: the judge never gates


def load_thresholds(path: str | Path | None) -> Thresholds:
    if path is None:
        return Thresholds()
    path = Path(path)
    if not path.is_file():
        raise InputError("找不到门槛文件。", file=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Thresholds(**data)
    except yaml.YAMLError as err:
        raise InputError(f"YAML 格式错误：{err}", file=str(path)) from None
    except (TypeError, ValidationError) as err:
        raise InputError(f"门槛设置无效：{_first_error(err)}", file=str(path)) from None


def _first_error(err: Exception) -> str:
    if isinstance(err, ValidationError):
        e = err.errors()[0]
        where = ".".join(str(x) for x in e.get("loc", ()))
        return f"“{where}”：{e.get('msg')}"
    return str(err)


def load_case(folder: str | Path) -> EvalCase:
    folder = Path(folder)
    spec_path = folder / "spec.yaml"
    if not spec_path.is_file():
        raise InputError("案例缺少 spec.yaml。", file=str(folder))
    figures_path = next((folder / n for n in FIGURE_FILES if (folder / n).is_file()), None)
    if figures_path is None:
        raise InputError("案例缺少数据文件（figures.csv、figures.yaml 或 figures.xlsx）。", file=str(folder))
    meta: dict[str, Any] = {}
    case_file = folder / "case.yaml"
    if case_file.is_file():
        try:
            meta = yaml.safe_load(case_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise InputError(f"YAML 格式错误：{err}", file=str(case_file)) from None
    try:
        expectations = CaseExpectations(**(meta.get("expectations") or {}))
    except (TypeError, ValidationError) as err:
        raise InputError(f"预期设置无效：{_first_error(err)}", file=str(case_file), field="expectations") from None
    unknown = set(expectations.thresholds) - set(Thresholds.model_fields)
    if unknown:
        raise InputError(f"未知的门槛“{sorted(unknown)[0]}”。", file=str(case_file), field="expectations.thresholds")
    return EvalCase(
        id=folder.name,
        path=folder,
        spec_path=spec_path,
        figures_path=figures_path,
        description=str(meta.get("description") or "").strip(),
        expectations=expectations,
    )


def discover_cases(cases_dir: str | Path, only: list[str] | None = None) -> list[EvalCase]:
    cases_dir = Path(cases_dir)
    if not cases_dir.is_dir():
        raise InputError("找不到案例目录。", file=str(cases_dir))
    folders = sorted(p for p in cases_dir.iterdir() if p.is_dir() and (p / "spec.yaml").is_file())
    if only:
        missing = [c for c in only if not (cases_dir / c / "spec.yaml").is_file()]
        if missing:
            raise InputError(
                f"没有案例“{missing[0]}”（可用：{'、'.join(p.name for p in folders)}）。", file=str(cases_dir)
            )
        folders = [cases_dir / c for c in only]
    if not folders:
        raise EvalError(f"案例目录 {cases_dir} 中没有案例（每个案例是一个含 spec.yaml 的文件夹）。")
    return [load_case(f) for f in folders]


# ---------------------------------------------------------------- results


class Finding(BaseModel):
    kind: Literal[
        "invented",
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


class JudgeScore(BaseModel):
    scores: dict[str, float] = {}
    reason: str = ""
    error: str | None = None

    @property
    def average(self) -> float | None:
        return round(sum(self.scores.values()) / len(self.scores), 2) if self.scores else None


class CaseResult(BaseModel):
    case_id: str
    title: str = ""
    description: str = ""
    engine: str = ""  # offline / model / mixed
    expect_placeholders: bool = False
    min_placeholders: int = 1
    invented: int = 0  # unmarked invented numbers in the final text
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
        return self.invented + self.unverified

    @property
    def coverage(self) -> float:
        return self.figures_used / self.figures_total if self.figures_total else 1.0

    @property
    def unexpected_placeholders(self) -> int:
        return 0 if self.expect_placeholders else self.placeholders


class GateFailure(BaseModel):
    case_id: str | None  # None: a suite-wide metric
    metric: str
    value: float
    limit: float
    message: str


METRIC_ZH = {
    "invented_numbers": "编造数字（含标注待核实的）",
    "style_errors_per_case": "规范错误",
    "style_warnings_per_case": "规范提示",
    "structure_pass_rate": "结构合规率",
    "structure": "结构",
    "min_figure_coverage": "数据覆盖率",
    "placeholders_unexpected": "意外的待补充项",
    "placeholders_expected": "应有的待补充项",
    "model_fallback_sections": "模型出错改用离线起草的章节",
    "judge_min_average": "模型评分均分",
    "forbidden_phrases": "不应出现的表述",
    "required_phrases": "应出现的表述",
    "error": "案例运行出错",
}


class EvalReport(BaseModel):
    backend: Backend
    model: str | None = None
    judge: bool = False
    started_at: str = ""
    prompt_version: str = ""
    cases_dir: str = ""
    thresholds: Thresholds = Thresholds()
    cases: list[CaseResult] = []
    failures: list[GateFailure] = []

    @property
    def passed(self) -> bool:
        return not self.failures

    def overall(self) -> dict[str, Any]:
        ok = [c for c in self.cases if c.error is None]
        used = sum(c.figures_used for c in ok)
        total = sum(c.figures_total for c in ok)
        judged = [c.judge.average for c in ok if c.judge and c.judge.average is not None]
        first = [c.first_answer_invented for c in ok if c.first_answer_invented is not None]
        return {
            "cases": len(self.cases),
            "cases_passed": sum(1 for c in self.cases if not self.case_failures(c.case_id)),
            "errors": len(self.cases) - len(ok),
            "invented": sum(c.invented for c in ok),
            "unverified": sum(c.unverified for c in ok),
            "first_answer_invented": sum(first) if first else None,
            "repaired_sections": sum(len(c.repaired_sections) for c in ok),
            "fallback_sections": sum(len(c.fallback_sections) for c in ok),
            "placeholders_expected": sum(c.placeholders for c in ok if c.expect_placeholders),
            "placeholders_unexpected": sum(c.unexpected_placeholders for c in ok),
            "figure_coverage": round(used / total, 4) if total else 1.0,
            "figures_used": used,
            "figures_total": total,
            "style_errors": sum(c.style_errors for c in ok),
            "style_warnings": sum(c.style_warnings for c in ok),
            "structure_pass_rate": round(sum(c.structure.passed for c in ok) / len(ok), 4) if ok else 0.0,
            "judge_average": round(sum(judged) / len(judged), 2) if judged else None,
        }

    def case_failures(self, case_id: str) -> list[GateFailure]:
        return [f for f in self.failures if f.case_id == case_id]

    def to_json_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"cases"})
        data["passed"] = self.passed
        data["overall"] = self.overall()
        data["cases"] = []
        for c in self.cases:
            item = c.model_dump(mode="json")
            item.update(
                invented_total=c.invented_total,
                coverage=round(c.coverage, 4),
                unexpected_placeholders=c.unexpected_placeholders,
                judge_average=c.judge.average if c.judge else None,
                passed=not self.case_failures(c.case_id),
            )
            data["cases"].append(item)
        return data

    def to_markdown(self) -> str:
        return render_markdown(self)


# ---------------------------------------------------------------- structure


def check_structure(markdown: str, style: list[StyleFinding] | None = None) -> StructureResult:
    """The parts of a 年度工作汇报 in order, as the style checker sees the final text (title line
    first): its S1 (heading numbering) and S2 (导语 ending, part order, closing) findings at any
    severity, since a missing part or closing sentence is only a warning to the writer but fails
    the eval, and its Markdown findings. `style`: the checker's findings of `markdown` when the
    caller has them (scope "report"); otherwise the text is linted here."""
    from assistant.check.style import MARKDOWN_MESSAGES

    if style is None:
        from assistant.check import lint_style

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


def _is_unverified(m: NumberMention) -> bool:
    return m.status == "placeholder" and is_unverified(m.text)


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
    for m in check.numbers:
        sid = _section_at(spans, m.start)
        if m.status == "invented":
            result.invented += 1
            findings.append(
                Finding(
                    kind="invented",
                    section_id=sid,
                    text=m.text,
                    context=_context(markdown, m.start, m.end),
                    message="数据表中找不到依据的数字",
                )
            )
        elif _is_unverified(m):
            result.unverified += 1
            findings.append(
                Finding(
                    kind="unverified",
                    section_id=sid,
                    text=m.text,
                    context=_context(markdown, m.start, m.end),
                    message="模型编造、修正后仍未改正，已标注待核实",
                )
            )
        elif m.status == "placeholder":
            result.placeholders += 1
            findings.append(
                Finding(
                    kind="placeholder",
                    section_id=sid,
                    text=m.text,
                    context=_context(markdown, m.start, m.end),
                    message="应有的待补充项" if exp.expect_placeholders else "意外的待补充项",
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


# ---------------------------------------------------------------- the model wrapper


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

    def complete_with_tools(self, messages, tools):  # pragma: no cover - drafting does not call tools
        return self._model.complete_with_tools(messages, tools)

    def _note(self, answer: str) -> None:
        from assistant.check import check_numbers
        from assistant.drafting.section_prompt import strip_wrapping

        section = getattr(self._local, "section", None) or "?"
        mentions = check_numbers(strip_wrapping(answer), self._figures, terms=self._terms)
        invented = [m.text for m in mentions if m.status == "invented"]
        with self._lock:
            self.first_invented.setdefault(section, []).extend(invented)


# ---------------------------------------------------------------- the judge


def judge_report(model: ChatModel, markdown: str) -> JudgeScore:
    """A model's rubric score (1–5 per criterion) of the report's style. Never raises: a
    failed or unreadable answer is recorded as the score's error."""
    from assistant.drafting.prompts import render_prompt
    from assistant.llm import ChatMessage

    try:
        prompt = render_prompt("judge", text=markdown, criteria=list(JUDGE_CRITERIA))  # the answer's JSON keys
        answer = model.complete([ChatMessage(role="user", content=prompt)])
    except HuibaoError as err:
        return JudgeScore(error=f"评分请求失败：{err}")
    return parse_judge(answer)


def parse_judge(answer: str) -> JudgeScore:
    m = re.search(r"\{.*\}", answer or "", re.S)
    if m is None:
        return JudgeScore(error=f"评分结果不是 JSON：{(answer or '')[:60]}")
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError:
        return JudgeScore(error=f"评分结果不是有效的 JSON：{m.group(0)[:60]}")
    scores: dict[str, float] = {}
    if not any(k in data for k in JUDGE_CRITERIA) and "score" in data:
        # A judge that answers one overall score (older rubric prompts, simple fakes).
        try:
            overall = float(data["score"])
        except (TypeError, ValueError):
            return JudgeScore(error="评分结果中的 score 不是数字")
        if not 1 <= overall <= 5:
            return JudgeScore(error=f"总分 {overall:g} 不在 1～5 之间")
        return JudgeScore(scores={"总体": overall}, reason=str(data.get("reason") or data.get("理由") or ""))
    for key in JUDGE_CRITERIA:
        value = data.get(key)
        if isinstance(value, dict):
            value = value.get("score")
        try:
            value = float(value)
        except (TypeError, ValueError):
            return JudgeScore(error=f"评分结果缺少“{key}”的分数")
        if not 1 <= value <= 5:
            return JudgeScore(error=f"“{key}”的分数 {value:g} 不在 1～5 之间")
        scores[key] = value
    reason = data.get("理由") or data.get("reason") or ""
    return JudgeScore(scores=scores, reason=str(reason))


# ---------------------------------------------------------------- running


def _resolve_model(settings: Settings, model: str | ChatModel | None) -> ChatModel:
    if model is not None and not isinstance(model, str):
        return model
    from assistant.llm import make_model

    made = make_model(settings, model=model)
    if made is None:
        raise EvalError(
            "未配置模型接口，无法用模型评测。请设置 OPENAI_BASE_URL / OPENAI_API_KEY"
            "（或 HUIBAO_BASE_URL / HUIBAO_API_KEY），或改用 --offline。"
        )
    return made


def run_case(case: EvalCase, settings: Settings, kb: KnowledgeBase | None, model: ChatModel | None) -> CaseResult:
    from assistant.core.figures import load_figures
    from assistant.drafting.context import DraftContext
    from assistant.drafting.draft import draft_report
    from assistant.drafting.engines import make_engine
    from assistant.drafting.spec import load_spec

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
        report.report_check,
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
    from assistant.drafting.prompts import prompt_version

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
        from assistant.kb.ingest import open_knowledge_base
        from assistant.llm.embeddings import make_embedder

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


# ---------------------------------------------------------------- the gate


def _limits(base: Thresholds, case: EvalCase | None) -> Thresholds:
    if case is None or not case.expectations.thresholds:
        return base
    return base.model_copy(update=case.expectations.thresholds)


def gate(results: list[CaseResult], thresholds: Thresholds, cases: list[EvalCase] | None = None) -> list[GateFailure]:
    """Every threshold a case (or the suite) misses, with a Chinese message naming both."""
    by_id = {c.id: c for c in cases or []}
    out: list[GateFailure] = []

    def fail(case_id: str | None, metric: str, value: float, limit: float, detail: str) -> None:
        who = f"案例 {case_id}" if case_id else "全部案例"
        out.append(
            GateFailure(
                case_id=case_id,
                metric=metric,
                value=value,
                limit=limit,
                message=f"{who}：{METRIC_ZH.get(metric, metric)}{detail}",
            )
        )

    for r in results:
        if r.error is not None:
            fail(r.case_id, "error", 1, 0, f"——{r.error}")
            continue
        t = _limits(thresholds, by_id.get(r.case_id))
        if r.invented_total > t.invented_numbers:
            texts = "、".join(f.text for f in r.findings if f.kind in ("invented", "unverified"))
            fail(
                r.case_id,
                "invented_numbers",
                r.invented_total,
                t.invented_numbers,
                f" {r.invented_total} 个，上限 {t.invented_numbers}（{texts}）",
            )
        if r.style_errors > t.style_errors_per_case:
            rules = sorted({f.rule for f in r.findings if f.kind == "style_error" and f.rule})
            fail(
                r.case_id,
                "style_errors_per_case",
                r.style_errors,
                t.style_errors_per_case,
                f" {r.style_errors} 处，上限 {t.style_errors_per_case}（规则：{'、'.join(rules)}）",
            )
        if t.style_warnings_per_case is not None and r.style_warnings > t.style_warnings_per_case:
            fail(
                r.case_id,
                "style_warnings_per_case",
                r.style_warnings,
                t.style_warnings_per_case,
                f" {r.style_warnings} 处，上限 {t.style_warnings_per_case}",
            )
        if not r.structure.passed:
            fail(r.case_id, "structure", 0, 1, "不合规：" + "；".join(r.structure.reasons))
        if r.coverage < t.min_figure_coverage:
            fail(
                r.case_id,
                "min_figure_coverage",
                round(r.coverage, 4),
                t.min_figure_coverage,
                f" {r.coverage:.0%}，下限 {t.min_figure_coverage:.0%}（未用到：{'、'.join(r.unused_figures)}）",
            )
        if r.unexpected_placeholders > t.placeholders_unexpected:
            fail(
                r.case_id,
                "placeholders_unexpected",
                r.unexpected_placeholders,
                t.placeholders_unexpected,
                f" {r.unexpected_placeholders} 个，上限 {t.placeholders_unexpected}（本案例数据齐全，不应有待补充项）",
            )
        if r.expect_placeholders and r.placeholders < r.min_placeholders:
            fail(
                r.case_id,
                "placeholders_expected",
                r.placeholders,
                r.min_placeholders,
                f" {r.placeholders} 个，至少应有 {r.min_placeholders} 个（缺数据处应写【待补充：…】）",
            )
        if len(r.fallback_sections) > t.model_fallback_sections:
            fail(
                r.case_id,
                "model_fallback_sections",
                len(r.fallback_sections),
                t.model_fallback_sections,
                f" {len(r.fallback_sections)} 节（{'、'.join(r.fallback_sections)}），上限 {t.model_fallback_sections}",
            )
        if r.forbidden_found:
            fail(r.case_id, "forbidden_phrases", len(r.forbidden_found), 0, "：" + "、".join(r.forbidden_found))
        if r.required_missing:
            fail(r.case_id, "required_phrases", len(r.required_missing), 0, "缺少：" + "、".join(r.required_missing))
        if (
            t.judge_min_average is not None
            and r.judge is not None
            and r.judge.average is not None
            and r.judge.average < t.judge_min_average
        ):
            fail(
                r.case_id,
                "judge_min_average",
                r.judge.average,
                t.judge_min_average,
                f" {r.judge.average:g}，下限 {t.judge_min_average:g}",
            )
    ok = [r for r in results if r.error is None]
    if ok:
        rate = sum(r.structure.passed for r in ok) / len(ok)
        if rate < thresholds.structure_pass_rate:
            bad = "、".join(r.case_id for r in ok if not r.structure.passed)
            fail(
                None,
                "structure_pass_rate",
                round(rate, 4),
                thresholds.structure_pass_rate,
                f" {rate:.0%}，下限 {thresholds.structure_pass_rate:.0%}（不合规：{bad}）",
            )
    return out


# ---------------------------------------------------------------- the Markdown report


def _md_cell(text: str) -> str:
    return str(text).replace("|", "｜").replace("\n", " ")


def _code(text: str) -> str:
    return "`" + str(text).replace("`", "ˋ") + "`"


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
    t = report.thresholds
    lines += [
        "",
        "## 总体",
        "",
        "| 指标 | 数值 | 门槛 |",
        "|---|---|---|",
        f"| 编造数字（未标注） | {ov['invented']} | 每案例 ≤ {t.invented_numbers}（含待核实） |",
        f"| 修正后仍编造、标注待核实 | {ov['unverified']} | 同上 |",
    ]
    if ov["first_answer_invented"] is not None:
        lines.append(f"| 模型初稿编造数字 | {ov['first_answer_invented']} | 不设门槛（修正轮会处理） |")
        lines.append(f"| 进入修正轮的章节 | {ov['repaired_sections']} | 不设门槛 |")
        lines.append(f"| 模型出错改用离线的章节 | {ov['fallback_sections']} | 每案例 ≤ {t.model_fallback_sections} |")
    lines += [
        f"| 待补充项（预期的） | {ov['placeholders_expected']} | 缺数据案例至少若干个 |",
        f"| 待补充项（意外的） | {ov['placeholders_unexpected']} | 每案例 ≤ {t.placeholders_unexpected} |",
        f"| 数据覆盖率 | {ov['figure_coverage']:.1%}（{ov['figures_used']}/{ov['figures_total']}） | 每案例 ≥ {t.min_figure_coverage:.0%} |",
        f"| 规范错误 | {ov['style_errors']} | 每案例 ≤ {t.style_errors_per_case} |",
        f"| 规范提示 | {ov['style_warnings']} | {'不设门槛' if t.style_warnings_per_case is None else f'每案例 ≤ {t.style_warnings_per_case}'} |",
        f"| 结构合规率 | {ov['structure_pass_rate']:.0%} | ≥ {t.structure_pass_rate:.0%} |",
    ]
    if ov["judge_average"] is not None:
        lines.append(
            f"| 模型评分均分（1～5） | {ov['judge_average']:g} | "
            f"{'不设门槛' if t.judge_min_average is None else f'≥ {t.judge_min_average:g}'} |"
        )
    lines += ["", "## 各案例", ""]
    head = "| 案例 | 引擎 | 编造 | 待核实 | 待补充 | 数据覆盖 | 规范错误 | 规范提示 | 结构 |"
    sep = "|---|---|---|---|---|---|---|---|---|"
    if report.backend == "model":
        head += " 初稿编造 | 修正章节 |"
        sep += "---|---|"
    if report.judge:
        head += " 模型评分 |"
        sep += "---|"
    head += " 结果 |"
    sep += "---|"
    lines += [head, sep]
    for c in report.cases:
        verdict = "✅ 通过" if not report.case_failures(c.case_id) else "❌ 未通过"
        if c.error:
            lines.append(
                f"| {c.case_id} | — | — | — | — | — | — | — | — |"
                + (" — | — |" if report.backend == "model" else "")
                + (" — |" if report.judge else "")
                + " ❌ 出错 |"
            )
            continue
        ph = f"{c.placeholders}" + ("（预期）" if c.expect_placeholders else "")
        row = (
            f"| {c.case_id} | {c.engine} | {c.invented} | {c.unverified} | {ph} | "
            f"{c.coverage:.0%}（{c.figures_used}/{c.figures_total}） | {c.style_errors} | {c.style_warnings} | "
            f"{'合规' if c.structure.passed else '不合规'} |"
        )
        if report.backend == "model":
            row += (
                f" {c.first_answer_invented if c.first_answer_invented is not None else '—'} | "
                f"{'、'.join(c.repaired_sections) or '—'} |"
            )
        if report.judge:
            row += f" {c.judge.average if c.judge and c.judge.average is not None else '—'} |"
        lines.append(row + f" {verdict} |")
    if report.failures:
        lines += ["", "## 未达门槛", ""]
        lines += [f"- {_md_cell(f.message)}" for f in report.failures]
    lines += ["", "## 案例详情"]
    for c in report.cases:
        lines += ["", f"### {c.case_id}：{c.title or '（未起草）'}", ""]
        if c.description:
            lines += [c.description, ""]
        if c.error:
            lines += [f"运行出错：{c.error}"]
            continue
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
        groups = [
            ("invented", "编造的数字"),
            ("unverified", "标注待核实的数字"),
            ("first_answer_invented", "模型初稿中编造的数字"),
            ("placeholder", "待补充项"),
            ("style_error", "规范错误"),
            ("style_warning", "规范提示（不计入门槛）"),
            ("forbidden", "不应出现的表述"),
            ("missing_phrase", "应出现而未出现的表述"),
        ]
        for kind, label in groups:
            items = [f for f in c.findings if f.kind == kind]
            if not items:
                continue
            lines.append(f"- {label}（{len(items)}）：")
            for f in items:
                where = f"章节 {f.section_id}" if f.section_id else "全文"
                rule = f"{f.rule} " if f.rule else ""
                ctx = f" {_code(f.context)}" if f.context else ""
                said = "" if f.text and f"“{f.text.strip()}”" in f.message else f"：“{_md_cell(f.text)}”"
                lines.append(f"  - {where}：{rule}{_md_cell(f.message)}{said}{ctx}")
    return "\n".join(lines) + "\n"


def write_outputs(report: EvalReport, markdown_path: str | Path | None, json_path: str | Path | None) -> None:
    for path, text in (
        (markdown_path, report.to_markdown() if markdown_path else ""),
        (json_path, json.dumps(report.to_json_dict(), ensure_ascii=False, indent=2) if json_path else ""),
    ):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")


__all__ = [
    "Backend",
    "CaseExpectations",
    "CaseResult",
    "EvalCase",
    "EvalError",
    "EvalReport",
    "Finding",
    "GateFailure",
    "JudgeScore",
    "StructureResult",
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
