"""The drafting engines: what writes a section's text. The choice is made once, by
make_engine, and travels as an object; nothing below it asks whether there is a model.

- OfflineEngine composes the section from its outline notes, its figures and the office's
  past reports (assistant.drafting.offline); it calls no model.
- ModelEngine asks a ChatModel (retrieve → prompt → model → number check → one repair). A
  flagged number (invented, or another item's figure: misattributed) gets ONE repair round,
  whose prompt carries the checker's message naming the right item and value; what is still
  flagged after it is kept and wrapped 【待核实：…】 by mark_unverified, so nothing unverified
  looks verified. When the model fails for a section (ModelError), that section falls back to
  the offline engine: provenance.engine = "offline", provenance.error holds the model's
  message. Nothing is lost and the report stays complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from assistant.check import check_numbers, mark_unverified
from assistant.core.errors import ModelError
from assistant.drafting.context import (
    DraftContext,
    SectionRequest,
    TitleSource,
    finish_section,
    passage_uses,
    retrieval_query,
    retrieve,
    title_source,
)
from assistant.drafting.drafts import EngineKind, Provenance, SectionDraft
from assistant.drafting.offline import compose_section
from assistant.drafting.prompts import prompt_version
from assistant.drafting.section_prompt import (
    drop_repeated_heading,
    repair_prompt,
    section_prompt,
    split_title,
    strip_wrapping,
)
from assistant.drafting.spec import SectionSpec
from assistant.kb.retrieve import Passage
from assistant.llm import ChatMessage, ChatModel


class Engine(Protocol):
    """Drafts one section of a report."""

    kind: EngineKind  # what provenance.engine says of the sections it writes
    model_name: str | None  # provenance.model; None for the offline engine
    follows_instructions: bool  # any free-text 修改要求, not only the few the offline engine knows
    streams: bool  # calls request.on_delta with the text as it is written

    def draft(self, ctx: DraftContext, request: SectionRequest) -> SectionDraft: ...


class OfflineEngine:
    """Composes a section without any model."""

    kind: EngineKind = "offline"
    model_name: str | None = None
    follows_instructions = False
    streams = False

    def draft(self, ctx: DraftContext, request: SectionRequest) -> SectionDraft:
        passages = self.passages(ctx, request.section)
        ctx.retrieved[request.section.id] = passages
        return self.compose(ctx, request, passages=passages)

    def passages(self, ctx: DraftContext, section: SectionSpec) -> list[Passage]:
        """The past report passages the offline engine drafts a section from."""
        return retrieve(
            ctx.kb,
            retrieval_query(section, ctx.spec, ctx.figures, ctx.title_of(section)),
            ctx.settings.retrieve_k,
            kind="report",
            organisation=ctx.spec.organisation,
        )

    def compose(
        self,
        ctx: DraftContext,
        request: SectionRequest,
        *,
        passages: list[Passage] | None = None,
        error: str | None = None,
        avoid_leads: frozenset[str] = frozenset(),
    ) -> SectionDraft:
        """The section from `passages` (what was already retrieved for it; compose_section
        keeps the past reports among them; None retrieves them here). `error`: the model error
        this draft replaces; `avoid_leads`: opening clauses earlier sections already use."""
        section = request.section
        if passages is None:
            passages = self.passages(ctx, section)
        result = compose_section(
            section,
            ctx.spec,
            ctx.figures,
            passages,
            title=ctx.title_of(section),
            terms=ctx.settings.terms,
            avoid_leads=avoid_leads,
            instruction=request.instruction,
        )
        provenance = Provenance(
            engine="offline",
            model=None,
            prompt_version=prompt_version(),
            passages=passage_uses(result.passages),
            instruction=request.instruction,
            title_source=title_source(section, ctx.spec),
            error=error,
        )
        return finish_section(ctx, section, result.text, result.title, provenance, result.todos)


class ModelEngine:
    """Drafts with a ChatModel; a section the model fails goes to `fallback` (offline)."""

    kind: EngineKind = "model"
    follows_instructions = True
    streams = True

    def __init__(self, model: ChatModel, fallback: OfflineEngine | None = None) -> None:
        self.model = model
        self.model_name: str | None = getattr(model, "name", None)
        self.fallback = fallback or OfflineEngine()

    def draft(self, ctx: DraftContext, request: SectionRequest) -> SectionDraft:
        section, spec, figures = request.section, ctx.spec, ctx.figures
        terms = ctx.settings.terms  # the office's own fixed numerals, as the checks use them
        passages = retrieve(
            ctx.kb,
            retrieval_query(section, spec, figures, section.title),
            ctx.settings.retrieve_k,
            organisation=spec.organisation,
        )
        ctx.retrieved[section.id] = passages
        prompt = section_prompt(ctx, request, passages)
        messages = [ChatMessage(role="system", content=prompt.system), ChatMessage(role="user", content=prompt.user)]
        try:
            answer = "".join(_stream(self.model, messages, request.on_delta))
        except ModelError as err:
            return self.fallback.compose(ctx, request, passages=passages, error=str(err))

        def parse(raw: str, fallback_title: str | None) -> tuple[str, str, TitleSource]:
            body = strip_wrapping(raw)
            if prompt.wants_title:
                proposed, rest = split_title(body)
                if proposed:
                    return proposed, rest, "model"
                return fallback_title or ctx.titles.get(section.id, ""), body, "offline"
            return section.title or "", drop_repeated_heading(body, section.title or ""), title_source(section, spec)

        title, text, source = parse(answer, None)
        provenance = Provenance(
            engine="model",
            model=self.model_name,
            prompt_version=prompt_version(),
            passages=passage_uses(prompt.sent, prompt.sent_texts),
            instruction=request.instruction,
            title_source=source,
        )
        notes = section.notes or None  # words the notes tie to a figure name it in the text
        flagged = [m for m in check_numbers(text, figures, terms=terms, notes=notes) if m.flagged]
        if flagged:
            repair = repair_prompt(prompt, flagged)
            provenance.repaired = True
            try:
                second = self.model.complete(
                    messages + [ChatMessage(role="assistant", content=answer), ChatMessage(role="user", content=repair)]
                )
                t2, text2, src2 = parse(second, title if source == "model" else None)
                title, text, provenance.title_source = t2, text2, src2 if src2 == "model" else source
            except ModelError as err:
                provenance.error = f"修正数字时模型出错，保留初稿并标注待核实：{err}"
            mentions = check_numbers(text, figures, terms=terms, notes=notes)
            if any(m.flagged for m in mentions):
                provenance.unverified = [m.text for m in mentions if m.flagged]
                text = mark_unverified(text, mentions)
        bound = long_answer_chars(ctx.settings.answer_tokens)
        if bound and len(text) > bound:
            provenance.warnings.append(
                f"模型回答过长（{len(text)} 字，上限约 {bound} 字，即 HUIBAO_ANSWER_TOKENS={ctx.settings.answer_tokens}"
                f" 的 {CHARS_PER_ANSWER_TOKEN} 倍），已照原文保存，请精简。"
            )
        return finish_section(ctx, section, text, title, provenance, list(prompt.todos))


# A section longer than this many characters per answer token is saved, but with a warning: the
# endpoint ignored max_tokens, or the answer is far longer than a section should be.
CHARS_PER_ANSWER_TOKEN = 4


def long_answer_chars(answer_tokens: int) -> int:
    """The length (characters) over which a model's section is saved with a warning; 0: no bound."""
    return max(0, answer_tokens) * CHARS_PER_ANSWER_TOKEN


def _stream(model: ChatModel, messages: list[ChatMessage], on_delta: Callable[[str], None] | None) -> Iterator[str]:
    for delta in model.stream(messages):
        if on_delta is not None and delta:
            on_delta(delta)
        yield delta


def make_engine(model: ChatModel | None) -> Engine:
    """The one place that decides: no model → the offline engine."""
    return OfflineEngine() if model is None else ModelEngine(model)
