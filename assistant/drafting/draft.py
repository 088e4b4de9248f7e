"""Drafting a section or a whole report with an engine (assistant.drafting.engines).

    ctx = DraftContext.create(spec, figures, kb, settings)
    engine = make_engine(model)            # None → the offline engine
    report = draft_report(ctx, engine)
    draft = draft_section(ctx, SectionRequest(spec.get("1.2"), instruction="更精炼"), engine)

Decisions (documented for the lead):
- A report drafts its sections concurrently, at most settings.max_concurrency at a time,
  and keeps document order.
- A parent section with children is drafted only when it has notes or figures of its own (a
  lead paragraph under its heading); otherwise it contributes its heading alone.
- Grounding is checked against every supplied figure (a number that belongs to another
  section is still a true number); a section's coverage lists only its assigned figures.
- The prompt's figures table holds the section's assigned figures; a section with none gets
  the figures no section claims.
- report.engine is "offline" for the offline engine, else "model", or "mixed" when some
  sections fell back to the offline engine after a model error.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from assistant.check import CheckResult
from assistant.core.figures import Figure
from assistant.drafting.context import DraftContext, SectionRequest, title_source
from assistant.drafting.drafts import FigureUse, PassageUse, Provenance, ReportDraft, SectionDraft
from assistant.drafting.engines import Engine, OfflineEngine
from assistant.drafting.prompts import prompt_version
from assistant.drafting.spec import ReportSpec, SectionSpec, figures_for

# The drafts are this stage's output: importable from here as well as from drafting.drafts.
__all__ = [
    "FigureUse",
    "PassageUse",
    "Provenance",
    "ReportDraft",
    "SectionDraft",
    "draft_report",
    "draft_section",
    "drafted_sections",
]


def draft_section(ctx: DraftContext, request: SectionRequest, engine: Engine) -> SectionDraft:
    """Draft one section with `engine` (a model engine falls back offline on a model error)."""
    return engine.draft(ctx, request)


def drafted_sections(spec: ReportSpec, figures: list[Figure] | None = None) -> list[SectionSpec]:
    """What gets drafted: leaves, and parents with notes or figures of their own (listed in the
    spec or pointing to the parent from the figures file)."""
    return [s for s in spec.walk() if s.is_leaf or s.notes.strip() or figures_for(s, list(figures or []))]


def _lead_of(text: str) -> str:
    return re.split(r"[，。；\n]", text.strip(), maxsplit=1)[0]


def _vary_repeated_leads(ctx: DraftContext, done: dict[str, SectionDraft]) -> None:
    """Two offline sections that drew on the same past subsection would open with the same
    clause; the later one (document order) is drafted again without it, from the passages it
    was drafted from. Deterministic."""
    offline = OfflineEngine()
    seen: set[str] = set()
    for section in ctx.spec.walk():
        draft = done.get(section.id)
        if draft is None or draft.provenance.engine != "offline" or section.part in ("intro", "closing"):
            continue
        lead = _lead_of(draft.text)
        if lead and lead in seen:
            done[section.id] = offline.compose(
                ctx,
                SectionRequest(section),
                passages=ctx.retrieved.get(section.id),
                error=draft.provenance.error,
                avoid_leads=frozenset(seen),
            )
            lead = _lead_of(done[section.id].text)
        seen.add(lead)


def _heading_only(ctx: DraftContext, section: SectionSpec, engine: Engine, version: str) -> SectionDraft:
    """A parent that only contributes its heading."""
    spec = ctx.spec
    return SectionDraft(
        section_id=section.id,
        title=ctx.title_of(section),
        text="",
        level=spec.level(section.id),
        label=spec.label(section.id),
        part=section.part,
        check=CheckResult(),
        provenance=Provenance(
            engine=engine.kind,
            model=engine.model_name,
            prompt_version=version,
            title_source=title_source(section, spec),
        ),
    )


def draft_report(
    ctx: DraftContext,
    engine: Engine,
    *,
    on_section: Callable[[SectionDraft], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_delta: Callable[[str, str], None] | None = None,
) -> ReportDraft:
    """Draft every section, at most settings.max_concurrency at a time; document order kept.

    Callbacks run as follows: on_start(section_id) in the worker before it drafts,
    on_delta(section_id, text) per streamed piece (worker thread), on_section(draft) in the
    calling thread as each section completes.
    """
    spec = ctx.spec
    done: dict[str, SectionDraft] = {}
    lock = threading.Lock()

    def work(section: SectionSpec) -> SectionDraft:
        if on_start is not None:
            with lock:
                on_start(section.id)
        delta = (lambda text, sid=section.id: on_delta(sid, text)) if on_delta else None
        return draft_section(ctx, SectionRequest(section, on_delta=delta), engine)

    workers = max(1, int(ctx.settings.max_concurrency))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="draft") as pool:
        futures = {pool.submit(work, s): s.id for s in drafted_sections(spec, ctx.figures)}
        for future in as_completed(futures):
            draft = future.result()
            done[draft.section_id] = draft
            if on_section is not None:
                on_section(draft)

    _vary_repeated_leads(ctx, done)
    version = prompt_version()
    sections = [done[s.id] if s.id in done else _heading_only(ctx, s, engine, version) for s in spec.walk()]
    mixed = engine.kind == "model" and any(d.provenance.engine != "model" for d in done.values())
    report = ReportDraft(
        title=spec.title,
        organisation=spec.organisation,
        year=spec.year,
        engine="mixed" if mixed else engine.kind,
        sections=sections,
    )
    report.report_check = report.check(ctx.figures, terms=ctx.settings.terms)
    return report
