"""Drafting: one section (retrieve → prompt → model → number check → one repair) and a whole
report (leaf sections concurrently, bounded by settings.max_concurrency).

Decisions (documented for the lead):
- Whatever the model returns goes through the number check unchanged, except a wrapping code
  fence and surrounding whitespace (and, when the title is fixed, a first line that merely
  repeats it). An invented number gets ONE repair round; what is still invented after it is
  kept and wrapped 【待核实：…】 by mark_unverified, so nothing unverified looks verified.
- When the model fails for a section (ModelError), that section falls back to the offline
  engine: provenance.engine = "offline", provenance.error holds the model's message, and the
  CLI lists it. Nothing is lost and the report stays complete.
- A parent section with children is drafted only when it has notes or figures of its own (a
  lead paragraph under its heading); otherwise it contributes its heading alone.
- Grounding is checked against every supplied figure (a number that belongs to another
  section is still a true number); a section's coverage lists only its assigned figures.
- The prompt's figures table holds the section's assigned figures; a section with none gets
  the figures no section claims.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from assistant.check.result import CheckResult, Coverage
from assistant.core.errors import ModelError
from assistant.core.figures import format_value
from assistant.core.tokens import count_tokens, truncate_to_tokens
from assistant.drafting.offline import compose_section, derive_titles
from assistant.drafting.prompts import prompt_version, render_prompt
from assistant.drafting.spec import ReportSpec, SectionSpec, figures_for
from assistant.gongwen import PART_LABELS, strip_label

if TYPE_CHECKING:
    from assistant.core.figures import Figure
    from assistant.core.settings import Settings
    from assistant.kb.retrieve import KnowledgeBase, Passage
    from assistant.llm import ChatModel


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
    engine: Literal["model", "offline"]
    model: str | None = None
    prompt_version: str
    figures: list[FigureUse] = []
    passages: list[PassageUse] = []
    instruction: str | None = None
    repaired: bool = False
    title_source: Literal["spec", "model", "offline", "none"] = "spec"
    unverified: list[str] = []  # numbers still invented after the repair, marked 【待核实：…】
    error: str | None = None  # the model error that made this section fall back offline


class SectionDraft(BaseModel):
    section_id: str
    title: str
    text: str
    level: int  # 0 intro/closing, 1 一、, 2 （一）, 3 1.
    label: str = ""  # the heading number: "一、", "（二）"
    part: str = "other"
    provenance: Provenance
    check: CheckResult

    @property
    def heading(self) -> str:
        return f"{self.label}{self.title}" if self.level > 0 and self.title else ""


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
        from assistant.check import check_text

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
        }


LENGTH_HINTS = {"intro": 200, "achievements": 400, "problems": 400, "plans": 400, "closing": 100, "other": 300}


def _part_guidance(part: str, spec: ReportSpec) -> str:
    topic = spec.resolved_topic
    return {
        "intro": f"导语一段：以“{spec.year}年，在……的坚强领导下”开头，概括全年工作和总体成效，"
        f"最后一句为“现将{spec.year}年{topic}汇报如下：”（以全角冒号结尾）。",
        "achievements": "先写一句统领全段的引语，再用“一是……二是……三是……”分项叙述做法和成效，"
        "每项先概括、后展开，把数据写进相应的做法中。",
        "problems": "先用“一是……二是……”写存在的问题；另起一段，以“针对上述问题，……将采取以下改进措施：”"
        "引出改进措施，同样分项叙述。",
        "plans": f"先写一段{spec.year + 1}年的总体思路，再用“一是……二是……”分项写工作打算；打算是尚未做的事，不用“了”。",
        "closing": "结束语一段：表明决心，以“作出新的更大贡献”一类表述收尾。",
        "other": "用“一是……二是……”分项叙述。",
    }.get(part, "用“一是……二是……”分项叙述。")


# ---------------------------------------------------------------- helpers


def _figure_rows(figures: list[Figure]) -> list[dict]:
    return [{"id": f.id, "item": f.item, "value": format_value(f.value), "unit": f.unit} for f in figures]


def prompt_figures(section: SectionSpec, spec: ReportSpec, figures: list[Figure]) -> list[Figure]:
    assigned = figures_for(section, figures)
    if assigned:
        return assigned
    claimed = {fid for s in spec.walk() for fid in s.figures} | {f.id for f in figures if f.section}
    return [f for f in figures if f.id not in claimed]


def heading_path(section: SectionSpec, spec: ReportSpec, titles: dict[str, str]) -> str:
    if spec.level(section.id) == 0:
        return PART_LABELS.get(section.part, section.id)
    chain, node = [], section
    while node is not None:
        chain.append(f"{spec.label(node.id)}{titles.get(node.id) or node.title or '（标题待拟）'}")
        node = spec.parent_of(node.id)
    return " > ".join(reversed(chain))


def retrieval_query(section: SectionSpec, spec: ReportSpec, figures: list[Figure], title: str | None) -> str:
    parts = [title or "", section.notes, " ".join(f.item for f in figures_for(section, figures))]
    query = " ".join(p for p in parts if p).strip()
    return query or PART_LABELS.get(section.part, spec.resolved_topic)


def retrieve(
    kb: KnowledgeBase | None, query: str, k: int, *, kind: str | None = None, organisation: str | None = None
) -> list[Passage]:
    """Top-k passages; with `organisation`, the office's own documents first, others to fill up.

    Callers pass kb=None for an empty knowledge base. The fill-up is a second search only when
    the office has some documents but fewer than k match; an office with none costs one query
    embedding (the filtered search returns before embedding when nothing is allowed)."""
    if kb is None:
        return []
    try:
        own = kb.search(query, k=k, kind=kind, organisation=organisation) if organisation else []
        if len(own) >= k:
            return own
        seen = {p.id for p in own}
        return own + [p for p in kb.search(query, k=k, kind=kind) if p.id not in seen][: k - len(own)]
    except Exception:  # noqa: BLE001 - a broken index must not stop drafting; drafts go on without passages
        return []


_FENCE = re.compile(r"^\s*```[^\n]*\n(.*?)\n?```\s*$", re.S)


def strip_wrapping(text: str) -> str:
    """Only a wrapping code fence and outer whitespace go; the checker sees the rest as written."""
    m = _FENCE.match(text)
    return (m.group(1) if m else text).strip()


def split_title(text: str) -> tuple[str | None, str]:
    """First line = proposed heading (numbering and end punctuation removed) when it looks
    like one; otherwise (None, text)."""
    lines = text.split("\n", 1)
    first = strip_label(lines[0]).strip().strip("。；：:;").strip()
    if len(lines) < 2 or not (2 <= len(first) <= 40) or re.search(r"[。；！？]", first):
        return None, text
    return first, lines[1].strip()


def drop_repeated_heading(text: str, title: str) -> str:
    lines = text.split("\n", 1)
    if len(lines) == 2 and strip_label(lines[0]).strip().strip("。") == title.strip():
        return lines[1].strip()
    return text


def _message(role: str, content: str):
    from assistant.llm import ChatMessage

    return ChatMessage(role=role, content=content)


def _defuse(text: str) -> str:
    """A passage must not be able to close its own reference block (<<< >>> are our delimiters)."""
    return text.replace("<<<", "＜＜＜").replace(">>>", "＞＞＞")


def _passage_rows(passages: list[Passage], texts: list[str] | None = None) -> list[dict]:
    return [
        {
            "label": f"S{i}",
            "source": _defuse(p.source),
            "heading_path": _defuse(p.heading_path or "（无）"),
            "text": _defuse(texts[i - 1] if texts else p.text),
        }
        for i, p in enumerate(passages, start=1)
    ]


def fit_passages(
    passages: list[Passage], render: Callable[[list[dict]], str], system: str, settings: Settings
) -> tuple[list[Passage], list[str], str]:
    """Keep the highest-ranked passages that fit the budget (context − answer − the rest of
    the prompt); lower-ranked ones go first and whole. Only when the single best passage is
    too big on its own is it cut. Returns (passages, their texts as sent, rendered prompt)."""
    enc = settings.tokenizer
    budget = settings.context_tokens - settings.answer_tokens - count_tokens(system, enc)
    chosen: list[Passage] = []
    prompt = render([])
    for p in passages:
        candidate = render(_passage_rows(chosen + [p]))
        if count_tokens(candidate, enc) > budget:
            break
        chosen.append(p)
        prompt = candidate
    if chosen or not passages:
        return chosen, [p.text for p in chosen], prompt
    top = passages[0]
    room = budget - count_tokens(render(_passage_rows([top], [""])), enc)
    if room < 50:  # not even a useful fragment fits
        return [], [], prompt
    text = truncate_to_tokens(top.text, room, enc)
    while text and count_tokens(render(_passage_rows([top], [text])), enc) > budget:
        text = truncate_to_tokens(text, max(0, count_tokens(text, enc) - 20), enc)
    if not text:
        return [], [], prompt
    return [top], [text], render(_passage_rows([top], [text]))


def _finish(
    section: SectionSpec,
    spec: ReportSpec,
    figures: list[Figure],
    text: str,
    title: str,
    provenance: Provenance,
    settings: Settings,
) -> SectionDraft:
    from assistant.check import check_text

    check = check_text(text, figures, scope="section", year=spec.year, terms=settings.terms)
    assigned = [f.id for f in figures_for(section, figures)]
    grounded = [m for m in check.numbers if m.status == "grounded" and m.figure_id]
    hit = {m.figure_id for m in grounded}
    check.coverage = Coverage(used=[f for f in assigned if f in hit], unused=[f for f in assigned if f not in hit])
    provenance.figures = [FigureUse(figure_id=m.figure_id, start=m.start, end=m.end, text=m.text) for m in grounded]
    return SectionDraft(
        section_id=section.id,
        title=title,
        text=text,
        level=spec.level(section.id),
        label=spec.label(section.id),
        part=section.part,
        provenance=provenance,
        check=check,
    )


def _passage_uses(passages: list[Passage], texts: list[str] | None = None) -> list[PassageUse]:
    return [
        PassageUse(passage_id=p.id, source=p.source, heading_path=p.heading_path, text=texts[i] if texts else p.text)
        for i, p in enumerate(passages)
    ]


def _title_source(section: SectionSpec, spec: ReportSpec) -> str:
    if spec.level(section.id) == 0:
        return "none"
    return "spec" if section.title else "offline"


def offline_passages(
    section: SectionSpec,
    spec: ReportSpec,
    figures: list[Figure],
    kb: KnowledgeBase | None,
    settings: Settings,
    titles: dict[str, str],
) -> list[Passage]:
    """The past report passages the offline engine drafts a section from."""
    title = section.title or titles.get(section.id, "")
    return retrieve(
        kb,
        retrieval_query(section, spec, figures, title),
        settings.retrieve_k,
        kind="report",
        organisation=spec.organisation,
    )


def draft_offline(
    section: SectionSpec,
    spec: ReportSpec,
    figures: list[Figure],
    kb: KnowledgeBase | None,
    settings: Settings,
    *,
    instruction: str | None = None,
    error: str | None = None,
    titles: dict[str, str] | None = None,
    avoid_leads: frozenset[str] = frozenset(),
    passages: list[Passage] | None = None,
) -> SectionDraft:
    """`passages`: what was already retrieved for this section (compose_section keeps the past
    reports among them); None retrieves them here."""
    titles = titles if titles is not None else derive_titles(spec, figures)
    title = section.title or titles.get(section.id, "")
    if passages is None:
        passages = offline_passages(section, spec, figures, kb, settings, titles)
    result = compose_section(
        section,
        spec,
        figures,
        passages,
        title=title,
        terms=settings.terms,
        avoid_leads=avoid_leads,
        instruction=instruction,
    )
    provenance = Provenance(
        engine="offline",
        model=None,
        prompt_version=prompt_version(),
        passages=_passage_uses(result.passages),
        instruction=instruction,
        title_source=_title_source(section, spec),
        error=error,
    )
    return _finish(section, spec, figures, result.text, result.title, provenance, settings)


# ---------------------------------------------------------------- the two entry points


def draft_section(
    section: SectionSpec,
    spec: ReportSpec,
    figures: list[Figure] | None,
    kb: KnowledgeBase | None,
    model: ChatModel | None,
    settings: Settings,
    *,
    instruction: str | None = None,
    on_delta: Callable[[str], None] | None = None,
    titles: dict[str, str] | None = None,
    _retrieved: dict[str, list[Passage]] | None = None,
) -> SectionDraft:
    """Draft one section. model=None → the offline engine. ModelError → offline fallback.

    `titles`: derive_titles(spec, figures) when the caller has it (a report derives it once).
    `_retrieved` (draft_report's): receives the passages retrieved for the section, so that a
    second offline pass over it does not search again."""
    from assistant.check import check_numbers, mark_unverified

    figures = list(figures or [])
    titles = titles if titles is not None else derive_titles(spec, figures)
    terms = settings.terms  # the office's own fixed numerals, as the checks use them
    if model is None:
        passages = offline_passages(section, spec, figures, kb, settings, titles)
        if _retrieved is not None:
            _retrieved[section.id] = passages
        return draft_offline(
            section, spec, figures, kb, settings, instruction=instruction, titles=titles, passages=passages
        )

    level = spec.level(section.id)
    wants_title = level > 0 and not section.title
    table = prompt_figures(section, spec, figures)
    siblings = [s.title for s in spec.siblings_of(section.id) if s.title and s.id != section.id]
    passages = retrieve(
        kb, retrieval_query(section, spec, figures, section.title), settings.retrieve_k, organisation=spec.organisation
    )
    if _retrieved is not None:
        _retrieved[section.id] = passages
    system = render_prompt("system", organisation=spec.organisation, year=spec.year)
    # Everything but the passages is fixed: fit_passages renders up to k+1 times.
    fixed = dict(
        title=spec.title,
        organisation=spec.organisation,
        year=spec.year,
        topic=spec.resolved_topic,
        section_id=section.id,
        heading_path=heading_path(section, spec, titles),
        part_label=PART_LABELS.get(section.part, "其他"),
        section_title=section.title or "",
        propose_title=wants_title,
        sibling_titles=siblings,
        notes=section.notes,
        figures=_figure_rows(table),
        instruction=instruction or "",
        label=spec.label(section.id),
        part_guidance=_part_guidance(section.part, spec),
        length_hint=LENGTH_HINTS.get(section.part, 300),
    )

    def render(rows: list[dict]) -> str:
        return render_prompt("section", passages=rows, **fixed)

    sent, sent_texts, user = fit_passages(passages, render, system, settings)
    messages = [_message("system", system), _message("user", user)]
    name = getattr(model, "name", None)
    try:
        answer = "".join(_stream(model, messages, on_delta))
    except ModelError as err:
        return draft_offline(
            section,
            spec,
            figures,
            kb,
            settings,
            instruction=instruction,
            error=str(err),
            titles=titles,
            passages=passages,
        )

    def parse(raw: str, fallback_title: str | None) -> tuple[str, str, str]:
        body = strip_wrapping(raw)
        if wants_title:
            proposed, rest = split_title(body)
            if proposed:
                return proposed, rest, "model"
            return fallback_title or titles.get(section.id, ""), body, "offline"
        return section.title or "", drop_repeated_heading(body, section.title or ""), _title_source(section, spec)

    title, text, title_source = parse(answer, None)
    provenance = Provenance(
        engine="model",
        model=name,
        prompt_version=prompt_version(),
        passages=_passage_uses(sent, sent_texts),
        instruction=instruction,
        title_source=title_source,
    )
    invented = [m for m in check_numbers(text, figures, terms=terms) if m.status == "invented"]
    if invented:
        repair = render_prompt(
            "repair", numbers=[m.model_dump() for m in invented], figures=_figure_rows(table), title_line=wants_title
        )
        provenance.repaired = True
        try:
            second = model.complete(messages + [_message("assistant", answer), _message("user", repair)])
            t2, text2, src2 = parse(second, title if title_source == "model" else None)
            title, text, provenance.title_source = t2, text2, src2 if src2 == "model" else title_source
        except ModelError as err:
            provenance.error = f"修正数字时模型出错，保留初稿并标注待核实：{err}"
        invented = [m for m in check_numbers(text, figures, terms=terms) if m.status == "invented"]
        if invented:
            provenance.unverified = [m.text for m in invented]
            text = mark_unverified(text, invented)
    return _finish(section, spec, figures, text, title, provenance, settings)


def _stream(model: ChatModel, messages: list, on_delta: Callable[[str], None] | None):
    for delta in model.stream(messages):
        if on_delta is not None and delta:
            on_delta(delta)
        yield delta


def drafted_sections(spec: ReportSpec, figures: list[Figure] | None = None) -> list[SectionSpec]:
    """What gets drafted: leaves, and parents with notes or figures of their own (listed in the
    spec or pointing to the parent from the figures file)."""
    return [s for s in spec.walk() if s.is_leaf or s.notes.strip() or figures_for(s, list(figures or []))]


def _lead_of(text: str) -> str:
    return re.split(r"[，。；\n]", text.strip(), maxsplit=1)[0]


def _vary_repeated_leads(
    spec: ReportSpec,
    figures: list[Figure],
    kb: KnowledgeBase | None,
    settings: Settings,
    done: dict[str, SectionDraft],
    titles: dict[str, str],
    retrieved: dict[str, list[Passage]] | None = None,
) -> None:
    """Two offline sections that drew on the same past subsection would open with the same
    clause; the later one (document order) is drafted again without it. Deterministic."""
    seen: set[str] = set()
    for section in spec.walk():
        draft = done.get(section.id)
        if draft is None or draft.provenance.engine != "offline" or section.part in ("intro", "closing"):
            continue
        lead = _lead_of(draft.text)
        if lead and lead in seen:
            done[section.id] = draft_offline(
                section,
                spec,
                figures,
                kb,
                settings,
                error=draft.provenance.error,
                titles=titles,
                avoid_leads=frozenset(seen),
                passages=(retrieved or {}).get(section.id),
            )
            lead = _lead_of(done[section.id].text)
        seen.add(lead)


def draft_report(
    spec: ReportSpec,
    figures: list[Figure] | None,
    kb: KnowledgeBase | None,
    model: ChatModel | None,
    settings: Settings,
    *,
    on_section: Callable[[SectionDraft], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_delta: Callable[[str, str], None] | None = None,
    titles: dict[str, str] | None = None,
) -> ReportDraft:
    """Draft every section, at most settings.max_concurrency at a time; document order kept.

    Callbacks run as follows: on_start(section_id) in the worker before it drafts,
    on_delta(section_id, text) per streamed piece (worker thread), on_section(draft) in the
    calling thread as each section completes. `titles`: derive_titles(spec, figures) when the
    caller already has it.
    """
    figures = list(figures or [])
    todo = drafted_sections(spec, figures)
    titles = titles if titles is not None else derive_titles(spec, figures)
    done: dict[str, SectionDraft] = {}
    retrieved: dict[str, list[Passage]] = {}  # one key per worker: no lock needed
    lock = threading.Lock()

    def work(section: SectionSpec) -> SectionDraft:
        if on_start is not None:
            with lock:
                on_start(section.id)
        delta = (lambda text, sid=section.id: on_delta(sid, text)) if on_delta else None
        return draft_section(
            section, spec, figures, kb, model, settings, on_delta=delta, titles=titles, _retrieved=retrieved
        )

    workers = max(1, int(settings.max_concurrency))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="draft") as pool:
        futures = {pool.submit(work, s): s.id for s in todo}
        for future in as_completed(futures):
            draft = future.result()
            done[draft.section_id] = draft
            if on_section is not None:
                on_section(draft)

    _vary_repeated_leads(spec, figures, kb, settings, done, titles, retrieved)
    version = prompt_version()
    sections: list[SectionDraft] = []
    for s in spec.walk():
        if s.id in done:
            sections.append(done[s.id])
        else:  # a parent that only contributes its heading
            sections.append(
                SectionDraft(
                    section_id=s.id,
                    title=s.title or titles.get(s.id, ""),
                    text="",
                    level=spec.level(s.id),
                    label=spec.label(s.id),
                    part=s.part,
                    check=CheckResult(),
                    provenance=Provenance(
                        engine="model" if model else "offline",
                        model=getattr(model, "name", None),
                        prompt_version=version,
                        title_source=_title_source(s, spec),
                    ),
                )
            )
    engines = {d.provenance.engine for d in done.values()}
    engine = "offline" if model is None else ("model" if engines <= {"model"} else "mixed")
    report = ReportDraft(
        title=spec.title, organisation=spec.organisation, year=spec.year, engine=engine, sections=sections
    )
    report.report_check = report.check(figures, terms=settings.terms)
    return report
