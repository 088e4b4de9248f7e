"""What every drafting step reads: the report's context and one section's request, plus the
two steps both engines share: retrieving passages and checking the finished text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from assistant.check import Coverage, check_text
from assistant.core.figures import Figure
from assistant.core.settings import Settings
from assistant.drafting.drafts import FigureUse, PassageUse, Provenance, SectionDraft
from assistant.drafting.offline import derive_titles
from assistant.drafting.spec import ReportSpec, SectionSpec, figures_for
from assistant.gongwen import PART_LABELS
from assistant.kb.retrieve import Kind, KnowledgeBase, Passage


@dataclass(frozen=True)
class DraftContext:
    """What the sections of one report share. `titles` are derive_titles(spec, figures): the
    offline titles for sections the outline leaves untitled (create() derives them once).

    `retrieved` records the passages each section was drafted from, so that a second offline
    pass over a section (draft_report varies repeated leads) does not search again."""

    spec: ReportSpec
    figures: list[Figure]
    kb: KnowledgeBase | None  # None: no knowledge base (empty or unavailable)
    settings: Settings
    titles: dict[str, str]
    retrieved: dict[str, list[Passage]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        spec: ReportSpec,
        figures: list[Figure] | None,
        kb: KnowledgeBase | None,
        settings: Settings,
        *,
        titles: dict[str, str] | None = None,
    ) -> DraftContext:
        """`titles`: derive_titles(spec, figures) when the caller already has it."""
        figures = list(figures or [])
        return cls(spec, figures, kb, settings, titles if titles is not None else derive_titles(spec, figures))

    def title_of(self, section: SectionSpec) -> str:
        """The outline's title, else the derived one ("" for intro and closing)."""
        return section.title or self.titles.get(section.id, "")


@dataclass(frozen=True)
class SectionRequest:
    """One section to draft: `instruction` is the author's request for this version (修改要求);
    `on_delta` receives the text as a model streams it."""

    section: SectionSpec
    instruction: str | None = None
    on_delta: Callable[[str], None] | None = None


# ---------------------------------------------------------------- retrieval


def retrieval_query(section: SectionSpec, spec: ReportSpec, figures: list[Figure], title: str | None) -> str:
    parts = [title or "", section.notes, " ".join(f.item for f in figures_for(section, figures))]
    query = " ".join(p for p in parts if p).strip()
    return query or PART_LABELS.get(section.part, spec.resolved_topic)


def retrieve(
    kb: KnowledgeBase | None, query: str, k: int, *, kind: Kind | None = None, organisation: str | None = None
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


# ---------------------------------------------------------------- the finished section


def passage_uses(passages: list[Passage], texts: list[str] | None = None) -> list[PassageUse]:
    """Provenance of the passages a section drew on; `texts`: what was sent when a passage was cut."""
    return [
        PassageUse(passage_id=p.id, source=p.source, heading_path=p.heading_path, text=texts[i] if texts else p.text)
        for i, p in enumerate(passages)
    ]


TitleSource = Literal["spec", "model", "offline", "none"]


def title_source(section: SectionSpec, spec: ReportSpec) -> TitleSource:
    """Where a section's title comes from unless a model proposes one."""
    if spec.level(section.id) == 0:
        return "none"
    return "spec" if section.title else "offline"


def finish_section(
    ctx: DraftContext,
    section: SectionSpec,
    text: str,
    title: str,
    provenance: Provenance,
    todos: list[str] | None = None,
) -> SectionDraft:
    """Check the final text and record the figures it uses (coverage lists the assigned ones)."""
    spec, figures = ctx.spec, ctx.figures
    check = check_text(
        text, figures, scope="section", year=spec.year, terms=ctx.settings.terms, notes=section.notes or None
    )
    assigned = [f.id for f in figures_for(section, figures)]
    grounded = [m for m in check.numbers if m.status == "grounded" and m.figure_id]
    hit = {m.figure_id for m in grounded}
    check.coverage = Coverage(used=[f for f in assigned if f in hit], unused=[f for f in assigned if f not in hit])
    provenance.figures = [
        FigureUse(figure_id=m.figure_id, start=m.start, end=m.end, text=m.text) for m in grounded if m.figure_id
    ]
    return SectionDraft(
        section_id=section.id,
        title=title,
        text=text,
        level=spec.level(section.id),
        label=spec.label(section.id),
        part=section.part,
        provenance=provenance,
        check=check,
        todos=todos or [],
    )
